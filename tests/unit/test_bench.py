"""`make bench`: its synthetic corpus, and a `--quick` run of the whole runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.__main__ import MEASURES
from bench.corpus import synthetic_papers, write_snapshot_page
from bench.figures_table import DOC, END, START, PartialRun, figures_table, replace_table
from paperlake.identity import title_key
from paperlake.sources.snapshot import parse_snapshot_page
from tests.conftest import REPO


def test_the_corpus_is_deterministic_has_unique_titles_and_distinct_abstracts_and_keeps_markup_residue():
    papers = synthetic_papers(2000)

    assert synthetic_papers(2000) == papers
    assert synthetic_papers(300) == papers[:300]  # the 10k corpus is the start of the 40k one
    assert len({title_key(paper.title) for paper in papers}) == len(papers)
    assert len({paper.abstract for paper in papers}) == len(papers)
    abstracts = " ".join(paper.abstract for paper in papers)
    assert all(residue in abstracts for residue in ("\\emph{", "$\\mathcal", "<i>", "&amp;", "**"))


def test_the_corpus_page_reads_back_through_the_snapshot_source(tmp_path):
    papers = synthetic_papers(40)

    page = write_snapshot_page(tmp_path / "page.txt", papers)

    records = parse_snapshot_page(page.read_text(encoding="utf-8"))
    assert [(r.title, r.abstract) for r in records] == [(p.title, p.abstract) for p in papers]


@pytest.mark.bench
def test_a_quick_bench_run_writes_every_figure_with_its_goal(tmp_path):
    results, doc = tmp_path / "results.json", tmp_path / "performance.md"
    doc.write_text(f"# Performance\n{START}\nthe last full run's table\n{END}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO)])}

    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(results), "--doc", str(doc)],
        cwd=REPO, env=env, check=True, timeout=900, capture_output=True, text=True,
    )

    # a smoke run's figures mean nothing: the page keeps the table of the last full run
    assert doc.read_text() == f"# Performance\n{START}\nthe last full run's table\n{END}\n"
    assert f"figures table of {doc} left as it was: only a full run" in run.stdout
    written = json.loads(results.read_text())
    assert written["quick"] and written["measures"] == list(MEASURES)
    figures = {figure["key"]: figure for figure in written["figures"]}
    dag_files = sorted(path.stem for path in (REPO / "dags").glob("*.py"))
    assert set(figures) == {
        "ingest_time_ratio",
        "ingest_cpu_ratio",
        "ingest_pss_ratio",
        "tag_cached_over_cold",
        "clean_ms_per_abstract",
        "clean_ms_per_real_abstract",
        "tag_over_bare_throughput",
        "tag_two_process_speedup",
        "bare_two_process_speedup",
        "sql_point_query_ratio",
        "sql_point_query_cpu_ratio",
        "shell_point_query_ratio",
        "shell_point_query_cpu_ratio",
        "lake_read_delta_over_views",
        "lake_publish_commit",
        "search_index_build_over_marts",
        "search_index_build_over_marts_cpu",
        "search_added_day_share",
        "search_added_day_share_cpu",
        "search_added_day_share_cli",
        "search_added_day_share_cli_cpu",
        "search_query_warm_ms",
        "search_query_scoring_over_sql",
        "search_query_over_match_bm25",
        "marts_full_seconds",
        "marts_full_over_plain",
        "marts_full_over_plain_cpu",
        "marts_full_peak_rss",
        "marts_full_differing_rows",
        "marts_added_day_seconds",
        "marts_added_day_over_full",
        "marts_added_day_cpu_seconds",
        "marts_added_day_over_full_cpu",
        "s3_query_ratio",
        *(f"dag_parse_{stem}" for stem in dag_files),
    }
    assert figures.pop("marts_full_differing_rows")["value"] == 0  # the plain build made the same marts
    assert all(figure["value"] > 0 for figure in figures.values())
    assert all(isinstance(figure["met"], bool) for figure in figures.values() if figure["goal"] is not None)
    # The added day's index update ran as the marts DAG's task, handed what the build committed, and again inside
    # `paperlake marts` after its incremental build of the same day.
    search = written["details"]["search"]
    in_task = search["runs"]["index added day"]
    assert (in_task["build"], in_task["partitions_from"]) == ("incremental", "marts build") and in_task["indexed"] > 0
    assert all(query["scoring_same_as_sql"] for query in search["queries"]["queries"].values())
    published, index = search["cli"]["output"][-2:]
    assert published.startswith("published ") and "(incremental build" in published
    assert index.startswith("search index ") and f": incremental ({in_task['indexed']} papers indexed" in index


def full_run_results(**changes) -> dict:
    """The results file of a run of every measurement, with two figures: one judged, one shown for context."""
    figures = [
        {"key": "marts_full_seconds", "name": "marts full build", "value": 32.93, "unit": "s", "goal": 30.0,
         "op": "<=", "met": False},
        {"key": "marts_full_over_plain", "name": "marts full / plain", "value": 0.691, "unit": "x", "goal": 0.75,
         "op": "<=", "met": True},
        {"key": "marts_added_day_cpu_seconds", "name": "marts added day, CPU seconds", "value": 3.69, "unit": "s",
         "goal": None, "op": "<=", "met": None},
    ]
    machine = {"cpus": 2, "cpu_model": "AMD EPYC", "ram_gb": 23.5, "load_average_1min": 0.37}
    return {"quick": False, "measures": list(MEASURES), "seconds": 1234, "started_utc": "2026-12-08 00:06",
            "machine": machine, "load_average_at_end": 1.19, "figures": figures, "details": {}} | changes


def test_the_figures_table_says_when_where_and_how_many_goals_the_run_met():
    table = figures_table(full_run_results(), MEASURES).splitlines()

    assert table[0] == (
        "One run, 2026-12-08 00:06 UTC, 1,234 s, on 2 CPUs (AMD EPYC) with 23.5 GB RAM, load average 0.37 at the start "
        "and 1.19 at the end: 1 of 2 goals met."
    )
    assert table[4:] == [
        "| marts full build | 32.93 s | <= 30 s | **NOT met** |",
        "| marts full / plain | 0.691 x | <= 0.75 x | met |",
        "| marts added day, CPU seconds | 3.69 s |  |  |",
    ]


@pytest.mark.parametrize(
    "changes, reason",
    [({"quick": True}, "this one was --quick"), ({"measures": ["marts", "search"]}, "this one left out clean, dags,")],
)
def test_only_a_full_run_of_every_measurement_writes_the_table(changes, reason):
    with pytest.raises(PartialRun, match=reason):
        figures_table(full_run_results(**changes), MEASURES)


def test_the_table_replaces_only_the_text_between_its_markers():
    doc = f"# Performance\nprose before\n{START}\nold table\n{END}\nprose after\n"

    written = replace_table(doc, "new table")

    assert written == f"# Performance\nprose before\n{START}\nnew table\n{END}\nprose after\n"
    assert replace_table(written, "new table") == written
    with pytest.raises(ValueError, match="needs one"):
        replace_table("# Performance\nno markers\n", "new table")


def test_the_performance_page_has_the_table_markers_make_bench_writes_between():
    assert replace_table(DOC.read_text(), "new table").count("new table") == 1
