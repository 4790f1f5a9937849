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
    assert sorted(bag.dags) == sorted(
        [f"paperlake_ingest_{s}" for s in sources] + ["paperlake_marts", "paperlake_digest", "paperlake_reparse"]
    )
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
    assert [t.task_id for t in ingest.topological_sort()] == [
        "fetch",
        "parse",
        "validate",
        "plan_tagging",
        "tag",
        "merge_tags",
        "commit",
    ]
    assert [o.name for o in ingest.get_task("commit").outlets] == ["paperlake_entities_other"]
    marts = bag.dags["paperlake_marts"]
    assert {a.name for a in marts.timetable.asset_condition.objects} == {
        "paperlake_entities_snapshot",
        "paperlake_entities_other",
        "paperlake_reparsed",
    }
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


def test_every_dag_documents_itself_and_bounds_its_runs_and_tasks():
    from airflow.dag_processing.dagbag import DagBag

    from paperlake_airflow import log_task_failure

    bag = DagBag(dag_folder=str(REPO / "dags"))
    for dag_id, dag in bag.dags.items():
        assert "**Reads**" in dag.doc_md and "**Writes**" in dag.doc_md, dag_id
        assert dag.dagrun_timeout and dag.dagrun_timeout.total_seconds() > 0, dag_id
        for task in dag.tasks:
            assert task.execution_timeout and task.execution_timeout.total_seconds() > 0, (dag_id, task.task_id)
            callbacks = (
                task.on_failure_callback if isinstance(task.on_failure_callback, list) else [task.on_failure_callback]
            )
            assert log_task_failure in callbacks, (dag_id, task.task_id)
    # consumers only read the lake: they start unpaused so that ingest runs and backfills reach them
    assert {dag_id for dag_id, dag in bag.dags.items() if dag.is_paused_upon_creation is False} == {
        "paperlake_marts", "paperlake_digest", "paperlake_reparse"}


def test_the_failure_callback_logs_one_line_with_dag_date_task_and_reason(caplog):
    import logging
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from paperlake_airflow import log_task_failure

    ti = SimpleNamespace(dag_id="paperlake_ingest_arxiv", task_id="fetch", try_number=2)
    run = SimpleNamespace(logical_date=datetime(2026, 11, 26, tzinfo=timezone.utc))
    with caplog.at_level(logging.ERROR, logger="paperlake"):
        log_task_failure({"ti": ti, "dag_run": run, "exception": RuntimeError("HTTP 503 from http://x\nmore detail")})
    assert caplog.messages == [
        "paperlake task failed: dag=paperlake_ingest_arxiv date=2026-11-26 task=fetch try=2 reason=RuntimeError: HTTP "
        "503 from http://x"
    ]
