"""`make bench`: its synthetic corpus, and a `--quick` run of the whole runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.corpus import synthetic_papers, write_snapshot_page
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
    results = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO)])}

    subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(results)], cwd=REPO, env=env, check=True, timeout=900
    )

    written = json.loads(results.read_text())
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
