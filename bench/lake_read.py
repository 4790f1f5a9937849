"""Reading the lake's layers: paperlake's `lake_*` views (the files `_commits` names) beside DuckDB's `delta_scan`
of the layers' Delta tables, and what publishing a commit to the Delta tables costs.

The synthetic lake of `bench.marts` (its commits published to Delta as `paperlake publish` would), then,
back to back in each round, the same two queries through each way of reading: opening the views (listing
the commits, or loading the Delta logs) included. Goal: delta_scan as fast as the views (ratio <= 1.1),
which is what moving paperlake's own readers to the Delta tables would need.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from bench.marts import FIRST_DAY, grow_lake
from bench.report import Figure, best_times
from paperlake.commit import current_commit, current_commits
from paperlake.config import Settings
from paperlake.delta import publish_lake, publish_partition, table_uri
from paperlake.lake import Lake
from paperlake.lake_views import connect_lake_views

QUERIES = {
    "clean rows per source": (
        "SELECT source, count(*), count(DISTINCT paper_id) FROM {clean} GROUP BY source ORDER BY source"
    ),
    "top entities": (
        "SELECT entity_id, count(DISTINCT paper_id) n FROM {entities} "
        "GROUP BY entity_id ORDER BY n DESC, entity_id LIMIT 10"
    ),
}


def commit_views(lake):
    """The two queries through paperlake's lake_* views (the files the current commits name)."""
    import duckdb

    con = duckdb.connect()
    connect_lake_views(con, lake)
    return [
        con.execute(sql.format(clean="lake_clean", entities="lake_entities")).fetchall() for sql in QUERIES.values()
    ]


def delta_scans(lake):
    """The two queries through DuckDB's delta_scan of the layers' Delta tables."""
    import duckdb
    from duckdb_extensions import import_extension

    con = duckdb.connect()
    import_extension("delta", con=con)
    con.execute("LOAD delta")
    tables = {layer: f"delta_scan('{table_uri(lake, layer)}')" for layer in ("clean", "entities")}
    return [con.execute(sql.format(**tables)).fetchall() for sql in QUERIES.values()]


def measure(work: Path, days: int, papers_per_day: int, repeats: int) -> tuple[list[Figure], dict]:
    """Grow a lake of `days` days, publish it, then time both ways of reading it and one more commit's publish."""
    home = work / "lake-read"
    grow_lake(home, range(days), papers_per_day)
    settings = Settings.from_env({"PAPERLAKE_HOME": str(home)})
    lake = Lake.from_settings(settings)
    started = time.perf_counter()
    publish_lake(lake, settings.run_retention)
    migrate_seconds = time.perf_counter() - started
    assert commit_views(lake) == delta_scans(lake), "the two ways of reading disagree"
    times = best_times(
        repeats, {"views": lambda: commit_views(lake), "delta_scan": lambda: delta_scans(lake)}
    )
    grow_lake(home, range(days, days + 1), papers_per_day)
    commit = current_commit(lake.store, "arxiv", FIRST_DAY + timedelta(days=days))
    started = time.perf_counter()
    publish_partition(lake, commit, settings.run_retention)
    publish_seconds = time.perf_counter() - started
    partitions = len(current_commits(lake.store))
    print(f"  {partitions} partitions; lake_* views {times['views']:.3f} s, delta_scan {times['delta_scan']:.3f} s; "
          f"first publish of the whole lake {migrate_seconds:.2f} s; one more commit's publish {publish_seconds:.3f} s")
    details = {"partitions": partitions, "seconds": times, "publish_lake_seconds": round(migrate_seconds, 2),
               "publish_commit_seconds": round(publish_seconds, 3)}
    return [
        Figure(
            "lake_read_delta_over_views",
            f"lake read, delta_scan / lake_* views ({partitions} partitions, 2 queries)",
            round(times["delta_scan"] / times["views"], 2),
            "x",
            1.1,
        ),
        Figure(
            "lake_publish_commit",
            f"publishing one commit to the 4 Delta tables ({partitions} partitions)",
            round(publish_seconds, 3),
            "s",
        ),
    ], details
