"""`make bench`: every measurement of issue 13 side by side, each figure printed with its goal and written as JSON.

    python -m bench [--quick] [--output RESULTS.json] [--only ingest,clean,...] [--doc docs/performance.md]

Nothing is asserted: a figure that misses its goal says "NOT met". On 2 cores the full run takes
about 15-20 minutes; --quick runs every measurement at small sizes (a smoke run, figures meaningless).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import clean, corpus, dags, ingest, lake_read, marts, rerun, s3_query, search, sql_point_query, tagging
from bench.figures_table import write_table
from bench.report import machine, write_results
from paperlake.config import Settings

MEASURES = ("ingest", "clean", "tag", "marts", "lake", "search", "s3", "sql", "dags")


@dataclass(frozen=True)
class Sizes:
    """How much each measurement works on."""

    ingest: tuple[int, int]
    texts: int  # abstracts cleaned and tagged
    marts_days: int
    marts_papers_per_day: int
    marts_repeats: int
    clean_repeats: int
    tag_repeats: int  # each tagging side takes 20-60 s at 10k abstracts
    dag_repeats: int
    s3_query_repeats: int
    lake_days: int
    search_days: int  # the search goals are set at 400k abstracts
    sql_point_repeats: int


FULL = Sizes(ingest=(10_000, 40_000), texts=10_000, marts_days=1000, marts_papers_per_day=1000, marts_repeats=1,
             clean_repeats=2, tag_repeats=1, dag_repeats=3, s3_query_repeats=5, lake_days=100, search_days=400,
             sql_point_repeats=15)
# Large enough that tagging forks its workers (1,000+ texts), small enough for a test.
QUICK = Sizes(ingest=(300, 1200), texts=300, marts_days=12, marts_papers_per_day=100, marts_repeats=1,
              clean_repeats=1, tag_repeats=1, dag_repeats=1, s3_query_repeats=1, lake_days=3, search_days=12,
              sql_point_repeats=1)


def run(sizes: Sizes, work: Path, measures: tuple[str, ...]) -> tuple[list, dict]:
    """Run the chosen measurements in order; their figures and details."""
    papers = corpus.synthetic_papers(max(sizes.ingest[1] if "ingest" in measures else 0, sizes.texts))
    figures, details = [], {}
    started = time.perf_counter()

    def section(title: str) -> None:
        print(f"\n[{time.perf_counter() - started:4.0f} s] {title}", flush=True)

    if "ingest" in measures:
        section(f"ingest of one partition, {sizes.ingest[0]:,} vs {sizes.ingest[1]:,} papers (fresh process each)")
        found, details["ingest"] = ingest.measure(work, papers, sizes.ingest)
        figures += found
        section("cached rerun of the smaller partition")
        found, details["rerun"] = rerun.measure(details["ingest"][sizes.ingest[0]])
        figures += found
    cleaned = None
    if "clean" in measures or "tag" in measures:
        section("clean_text, one process")
        found, details["clean"], cleaned = clean.measure(
            [paper.abstract for paper in papers[: sizes.texts]], sizes.clean_repeats
        )
        figures += found
    if "tag" in measures:
        section("tagging, one process and two")
        found, details["tag"] = tagging.measure(
            cleaned, [paper.title for paper in papers[: sizes.texts]], sizes.tag_repeats
        )
        figures += found
    if "marts" in measures:
        section(
            f"marts on a synthetic lake of {sizes.marts_days:,} days x {sizes.marts_papers_per_day:,} papers, beside a "
            "plain DuckDB build"
        )
        found, details["marts"] = marts.measure(work, sizes.marts_days, sizes.marts_papers_per_day, sizes.marts_repeats)
        figures += found
    if "lake" in measures:
        section(
            f"reading the lake: lake_* views vs delta_scan, {sizes.lake_days} days of {sizes.marts_papers_per_day:,} "
            "papers"
        )
        found, details["lake_read"] = lake_read.measure(
            work, sizes.lake_days, sizes.marts_papers_per_day, sizes.s3_query_repeats
        )
        figures += found
    if "search" in measures:
        section(f"search index beside the marts, {sizes.search_days:,} days of {sizes.marts_papers_per_day:,} papers")
        found, details["search"] = search.measure(work, sizes.search_days, sizes.marts_papers_per_day)
        figures += found
    if "s3" in measures:
        section("paperlake sql on an S3 lake vs a local lake (SeaweedFS)")
        found, details["s3_query"] = s3_query.measure(work, sizes.s3_query_repeats)
        figures += found
    if "sql" in measures:
        section("paperlake sql point query vs a bare read-only DuckDB connection")
        found, details["sql_point_query"] = sql_point_query.measure(work, sizes.sql_point_repeats)
        figures += found
    if "dags" in measures:
        section("DAG file parse")
        found, details["dags"] = dags.measure(work, sizes.dag_repeats)
        figures += found
    return figures, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run")
    parser.add_argument(
        "--output",
        type=Path,
        default=Settings.from_env().home / "bench" / "results.json",
        help="where to write the results as JSON",
    )
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated subset of {','.join(MEASURES)}")
    parser.add_argument(
        "--doc", type=Path, help="rewrite this page's figures table from the run (a full run of every measurement only)"
    )
    args = parser.parse_args()
    measures = tuple(name for name in args.only.split(",") if name)
    unknown = set(measures) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measurements {sorted(unknown)}; choose from {','.join(MEASURES)}")
    started, host = time.perf_counter(), machine()
    print(
        f"bench on {host['cpus']} CPUs ({host['cpu_model']}), {host['ram_gb']} GB RAM, load average "
        f"{host['load_average_1min']}"
    )
    with tempfile.TemporaryDirectory(prefix="paperlake-bench-") as work:
        figures, details = run(QUICK if args.quick else FULL, Path(work), measures)
    print(f"\n{'figure':<66} {'value':>9} {'unit':<7} {'goal':<12} verdict")
    for figure in figures:
        print(figure.line())
    write_results(args.output, figures, details, host, started, args.quick, measures)
    if args.doc:
        try:
            write_table(args.output, args.doc, MEASURES)
            print(f"figures table of {args.doc} written from this run")
        except ValueError as err:  # a partial run (PartialRun), or a page without the table's markers
            print(f"figures table of {args.doc} left as it was: {err}")
    print(f"\n{sum(f.met is True for f in figures)} of {sum(f.met is not None for f in figures)} goals met in "
          f"{time.perf_counter() - started:.0f} s; results in {args.output}")


if __name__ == "__main__":
    main()
