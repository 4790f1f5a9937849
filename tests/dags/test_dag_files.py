import json
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("spacy", "great_expectations", "pyarrow", "duckdb", "pandas")


def test_dagbag_loads_every_dag_without_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    sources = ["arxiv", "arxiv_oai", "hf_daily", "hf_search", "snapshot"]
    assert sorted(bag.dags) == sorted([f"paperlake_ingest_{s}" for s in sources] + ["paperlake_marts", "paperlake_digest"])
    assert [a.name for a in bag.dags["paperlake_digest"].timetable.asset_condition.objects] == ["paperlake_marts"]
    assert bag.dags["paperlake_ingest_arxiv"].get_task("fetch").pool == "arxiv_api"
    assert bag.dags["paperlake_ingest_arxiv_oai"].get_task("fetch").pool == "arxiv_api"
    assert bag.dags["paperlake_ingest_hf_daily"].get_task("fetch").pool == "default_pool"
    assert bag.dags["paperlake_ingest_arxiv"].params["reparse"] is False
    assert bag.dags["paperlake_ingest_arxiv"].params["allow_shrink"] is False


def test_one_ingest_dag_per_configured_source_with_its_entities_asset(monkeypatch):
    monkeypatch.setenv("PAPERLAKE_SOURCES", "snapshot, other")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert {"paperlake_ingest_snapshot", "paperlake_ingest_other"} <= set(bag.dags)
    ingest = bag.dags["paperlake_ingest_other"]
    assert [t.task_id for t in ingest.topological_sort()] == ["fetch", "clean", "validate", "tag", "commit"]
    assert [o.name for o in ingest.get_task("commit").outlets] == ["paperlake_entities_other"]
    marts = bag.dags["paperlake_marts"]
    assert {a.name for a in marts.timetable.asset_condition.objects} == {"paperlake_entities_snapshot", "paperlake_entities_other"}
    assert [o.name for o in marts.get_task("build_marts").outlets] == ["paperlake_marts"]


def test_dag_files_import_no_heavy_library():
    """Parsing a DAG file must not import spaCy, GX, pyarrow, duckdb or pandas (checked in a fresh interpreter)."""
    script = f"""
import importlib.util, json, sys
sys.path.insert(0, {str(REPO / 'dags')!r})
for name in ("ingest", "marts", "digest"):
    spec = importlib.util.spec_from_file_location(name, {str(REPO / 'dags')!r} + f"/{{name}}.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
