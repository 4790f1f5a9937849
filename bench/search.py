"""Search index cost on the marts bench's synthetic lake, side by side with the marts builds and DuckDB's own FTS index.

    python -m bench.search HOME marts-full|marts-incremental|index-full|index-dag-task|marts-cli|queries RESULT

Each step runs in a fresh process. An added day's index update is measured as users pay it: as the marts DAG's
`update_search_index` task runs it (its task function, in a process that imported Airflow's task runner and
`dags/marts.py` first, as a task process has), and inside `paperlake marts` (the same day built again from the marts
as they were before it, the build and the update split where the command prints the build's `published` line). Goals:
a full index build costs at most half a full marts build of the same lake; an added day adds at most a tenth to the
incremental marts build; a warm query takes at most 100 ms and at most twice a plain `match_bm25` query (PRAGMA
create_fts_index over the same papers, every word required, top 10) run by hand.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from bench.marts import build, cpu_seconds, grow_lake, vocabulary
from bench.processes import REPO, run_step
from bench.report import Figure, best_times
from paperlake.cli import main
from paperlake.config import Settings
from paperlake.lake import Lake
from paperlake.marts.published import local_marts_path
from paperlake.search import (
    ParsedQuery,
    build_search_index,
    load_fts,
    matches_sql,
    open_search,
    published_segments,
    query_terms,
    search,
)
from paperlake.search_scores import best_matches

QUERY_REPEATS = 5
TOP = 10
# Words of the synthetic vocabulary by frequency rank (Zipf): a frequent pair, a mid-frequency pair, a rare word.
QUERY_RANKS = ((2, 5), (40, 90), (900,))


def bench_queries() -> list[str]:
    words = vocabulary().to_pylist()
    return [" ".join(words[rank] for rank in ranks) for ranks in QUERY_RANKS]


def build_index(home: str, full: bool) -> dict:
    """Update (or with `full` rebuild) the search index of the lake under `home`: wall seconds, papers indexed."""
    settings = Settings.from_env({"PAPERLAKE_HOME": home})
    lake = Lake.from_settings(settings)
    cpu, started = cpu_seconds(), time.perf_counter()
    summary = build_search_index(lake, settings, full=full)
    return summary.to_dict() | {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "index_file_mb": round(sum(path.stat().st_size for path in published_segments(lake, settings)) / 2**20),
    }


def build_index_in_dag_task(home: str, marts_exports: dict) -> dict:
    """Run the marts DAG's `update_search_index` task on what the marts build before it returned, timed from its call,
    in this process once it has done what a task process does before any task runs: import Airflow's task runner and
    load the DAG file through a DagBag (as `task_runner.parse` does)."""
    import os

    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.sdk.execution_time import task_runner  # noqa: F401  (the task process's own code)

    os.environ["PAPERLAKE_HOME"] = home
    dags = REPO / "dags"
    bag = BundleDagBag(
        dag_folder=str(dags / "marts.py"), safe_mode=False, load_op_links=False, bundle_path=dags,
        bundle_name="dags-folder",
    )
    task = bag.dags["paperlake_marts"].task_dict["update_search_index"]
    cpu, started = cpu_seconds(), time.perf_counter()
    summary = task.python_callable({"exports": marts_exports})
    return summary | {"seconds": round(time.perf_counter() - started, 2), "cpu_seconds": round(cpu_seconds() - cpu, 2)}


class TimedLines:
    """A stdout that keeps each line written with the wall and CPU clocks when it was written."""

    def __init__(self):
        self.lines: list[tuple[str, float, float]] = []

    def write(self, text: str) -> int:
        self.lines += [(line, time.perf_counter(), cpu_seconds()) for line in text.splitlines() if line]
        return len(text)

    def flush(self) -> None:
        pass

    def clocks_at(self, prefix: str) -> tuple[float, float]:
        """(wall, CPU) when the first line beginning with `prefix` was written."""
        return next((wall, cpu) for line, wall, cpu in self.lines if line.startswith(prefix))


def marts_cli(home: str) -> dict:
    """Run `paperlake marts` (the marts build, then the search index update it hands its exports to); the seconds of
    each, split where the command prints the build's `published` line."""
    import contextlib
    import os

    os.environ["PAPERLAKE_HOME"] = home
    out = TimedLines()
    cpu, started = cpu_seconds(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["marts"])
    cpu_end, ended = cpu_seconds(), time.perf_counter()
    if code:
        raise RuntimeError(f"paperlake marts exited with {code}: {[line for line, _, _ in out.lines]}")
    published, published_cpu = out.clocks_at("published ")
    return {
        "marts": {"seconds": round(published - started, 2), "cpu_seconds": round(published_cpu - cpu, 2)},
        "index": {"seconds": round(ended - published, 2), "cpu_seconds": round(cpu_end - published_cpu, 2)},
        "output": [line for line, _, _ in out.lines],
    }


def scored_in_sql(con, query: str, count: int) -> tuple[int, list[tuple[float, int]]]:
    """The count and best `count` matches (with ties) of `query` as `search` read them for a first page before it
    scored them with numpy: every match scored in SQL into a temp table, counted, the best read from it."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE matches AS {matches_sql(query_terms(con, ParsedQuery.parse(query)))}")
    total = con.execute("SELECT count(*) FROM temp.matches").fetchone()[0]
    best = con.execute(
        "SELECT score, docid FROM temp.matches WHERE score >= (SELECT min(score) FROM (SELECT score FROM "
        f"temp.matches ORDER BY score DESC LIMIT {count:d}))"
    ).fetchall()
    return total, best


def time_queries(home: str) -> dict:
    """Warm query times: `paperlake.search.search` (a page of 10 with snippets and entities, and the total) against a
    plain `match_bm25` top 10 on an FTS index of the same papers built by hand (its build time too)."""
    import duckdb

    settings = Settings.from_env({"PAPERLAKE_HOME": home})
    fts = duckdb.connect()
    load_fts(fts)
    fts.execute(f"ATTACH '{local_marts_path(Lake.from_settings(settings), settings)}' AS m (READ_ONLY)")
    fts.execute("CREATE TABLE papers AS SELECT paper_id, title, abstract FROM m.papers")
    started = time.perf_counter()
    fts.execute("PRAGMA create_fts_index('papers', 'paper_id', 'title', 'abstract', stemmer = 'english')")
    fts_build = time.perf_counter() - started
    con = open_search(settings)
    by_hand = (
        "SELECT paper_id, score FROM (SELECT paper_id, fts_main_papers.match_bm25(paper_id, ?, conjunctive := 1) AS "
        "score FROM papers) "
        f"WHERE score IS NOT NULL ORDER BY score DESC LIMIT {TOP}"
    )
    results = {}
    for query in bench_queries():
        sides = {
            "search": lambda: search(con, query, size=TOP),
            "match_bm25": lambda: fts.execute(by_hand, [query]).fetchall(),
            "scoring": lambda: best_matches(con, query_terms(con, ParsedQuery.parse(query)).termids, TOP),
            "scoring_in_sql": lambda: scored_in_sql(con, query, TOP),
        }
        best_times(1, sides)  # warm: the files' pages are in memory
        times = best_times(QUERY_REPEATS, sides)
        total, best = best_matches(con, query_terms(con, ParsedQuery.parse(query)).termids, TOP)
        in_sql = scored_in_sql(con, query, TOP)
        results[query] = {side: round(seconds * 1000, 1) for side, seconds in times.items()} | {
            "matches": total,
            "scoring_same_as_sql": (total, sorted(best)) == (in_sql[0], sorted(in_sql[1])),
        }
    con.close()
    return {"fts_pragma_build_seconds": round(fts_build, 2), "queries": results}


def step(home: Path, kind: str, name: str) -> dict:
    return run_step("bench.search", [str(home), kind], home.parent / f"search-{name}.log")


# Where the added day's marts build leaves what it committed to its exports, for the index update step after it.
HANDED_EXPORTS = "marts-exports.json"


def measure(work: Path, days: int, papers_per_day: int) -> tuple[list[Figure], dict]:
    """Full marts and index builds of `days` days, then an added day built incrementally by both (the DAG's way), warm
    queries, and the same added day again by `paperlake marts` from the marts and index as they were before it."""
    home = work / "search-lake"
    grow_lake(home, range(days), papers_per_day)
    runs = {"marts full": step(home, "marts-full", "marts-full"), "index full": step(home, "index-full", "index-full")}
    grow_lake(home, range(days, days + 1), papers_per_day)
    marts_before_day = work / "marts-before-day"
    shutil.copytree(home / "lake" / "marts", marts_before_day)
    runs["marts added day"] = step(home, "marts-incremental", "marts-day")
    (home / HANDED_EXPORTS).write_text(json.dumps(runs["marts added day"].pop("exports")))
    airflow_home = {"AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    runs["index added day"] = run_step(
        "bench.search", [str(home), "index-dag-task"], work / "search-index-day.log", env=airflow_home
    )
    queries = step(home, "queries", "queries")
    shutil.rmtree(home / "lake" / "marts")
    shutil.copytree(marts_before_day, home / "lake" / "marts")
    cli = step(home, "marts-cli", "marts-cli")
    for name, run in runs.items():
        reread = (
            ""
            if run.get("partitions") is None
            else f"  ({run['partitions']} partitions re-read, named by the {run['partitions_from']}, "
            f"{run['compared']:,} papers compared, {run['indexed']:,} indexed)"
        )
        print(
            f"  {name:<18} {run['seconds']:>7.2f} s wall {run['cpu_seconds']:>7.2f} s CPU  {run['papers']:>9,} papers  "
            f"peak PSS {run['peak_pss_mb']:,} MB{reread}"
        )
    print(
        f"  paperlake marts, the added day again: build {cli['marts']['seconds']:.2f} s wall "
        f"{cli['marts']['cpu_seconds']:.2f} s CPU, then the index update {cli['index']['seconds']:.2f} s wall "
        f"{cli['index']['cpu_seconds']:.2f} s CPU"
    )
    print(f"  PRAGMA create_fts_index over the same papers: {queries['fts_pragma_build_seconds']:.2f} s")
    for query, times in queries["queries"].items():
        print(
            f"  query {query!r:<26} search {times['search']:>7.1f} ms   match_bm25 by hand {times['match_bm25']:>7.1f} "
            f"ms   {times['matches']:,} matches"
        )
        print(
            f"    its count and best {TOP} scored with numpy {times['scoring']:>6.1f} ms, every match scored in SQL "
            f"(as before) {times['scoring_in_sql']:>6.1f} ms; the same matches and scores: "
            f"{times['scoring_same_as_sql']}"
        )
    papers = runs["index full"]["papers"]
    slowest = max(queries["queries"].values(), key=lambda t: t["search"])
    ratio = max(t["search"] / t["match_bm25"] for t in queries["queries"].values())
    slowest_scoring = max(queries["queries"].values(), key=lambda t: t["scoring_in_sql"])
    return [
        Figure(
            "search_index_build_over_marts",
            f"search index full build / marts full build, {papers:,} papers",
            round(runs["index full"]["seconds"] / runs["marts full"]["seconds"], 3),
            "x",
            0.5,
        ),
        Figure(
            "search_index_build_over_marts_cpu",
            "the same, CPU time (a busy machine inflates wall time, not CPU time)",
            round(runs["index full"]["cpu_seconds"] / runs["marts full"]["cpu_seconds"], 3),
            "x",
        ),
        Figure(
            "search_added_day_share",
            "search index added day in the DAG's task / marts added day, time",
            round(runs["index added day"]["seconds"] / runs["marts added day"]["seconds"], 3),
            "x",
            0.1,
        ),
        Figure(
            "search_added_day_share_cpu",
            "the same, CPU time",
            round(runs["index added day"]["cpu_seconds"] / runs["marts added day"]["cpu_seconds"], 3),
            "x",
        ),
        Figure(
            "search_added_day_share_cli",
            "`paperlake marts`, the same day: its index update / its build, time",
            round(cli["index"]["seconds"] / cli["marts"]["seconds"], 3),
            "x",
            0.1,
        ),
        Figure(
            "search_added_day_share_cli_cpu",
            "the same, CPU time",
            round(cli["index"]["cpu_seconds"] / cli["marts"]["cpu_seconds"], 3),
            "x",
        ),
        Figure(
            "search_query_warm_ms",
            f"search query, warm, slowest of {len(queries['queries'])} (page of {TOP}, total, snippets)",
            slowest["search"],
            "ms",
            100.0,
        ),
        Figure(
            "search_query_scoring_over_sql",
            "its count and best matches scored with numpy / in SQL (before)",
            round(slowest_scoring["scoring"] / slowest_scoring["scoring_in_sql"], 2),
            "x",
        ),
        Figure(
            "search_query_over_match_bm25",
            "search query / plain match_bm25 top 10 by hand, warm (worst query)",
            round(ratio, 2),
            "x",
            2.0,
        ),
    ], {"runs": runs, "cli": cli, "queries": queries}


if __name__ == "__main__":
    home, kind, result = sys.argv[1:]
    steps = {
        "marts-full": lambda: build(home, full=True), "marts-incremental": lambda: build(home, full=False),
        "index-full": lambda: build_index(home, full=True),
        "index-dag-task": lambda: build_index_in_dag_task(
            home, json.loads((Path(home) / HANDED_EXPORTS).read_text())
        ),
        "marts-cli": lambda: marts_cli(home),
        "queries": lambda: time_queries(home),
    }
    Path(result).write_text(json.dumps(steps[kind]()))
