"""Rebuild the DuckDB marts whenever a partition is committed, and daily as a safety net."""

from __future__ import annotations

from airflow.sdk import AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from paperlake import pipeline
from paperlake_airflow import (
    DAG_DEFAULTS,
    MARTS_ASSET,
    REPARSED_ASSET,
    configured_sources,
    entities_asset,
    task_settings,
)

DOC = """
### Marts: brought up to date with every committed partition

**Reads** the committed partitions that changed since the last build (all of them on a first or
`--full` build). **Writes** the Delta Lake exports `marts/<mart>/` (the dates it touched, each
table's next version in one commit), then `marts/paperlake.duckdb` in one atomic step: the DuckDB
file is the consistent snapshot; readers keep the old file until they reopen. Then **updates** the
search index (`marts/search/`) from the published papers: the build hands it the partitions it rewrote, and only
papers whose text changed are re-indexed.

**Runs** whenever an ingest or reparse run commits (asset events), and daily at 06:30 UTC. It is
created unpaused so that backfills reach it; every build compares the lake's commits with the marts' state, so
a missed or batched asset event costs nothing but a later refresh. No backfill is needed: trigger it once to
rebuild now.
"""


@dag(
    dag_id="paperlake_marts",
    description="Bring the DuckDB marts up to date with every committed partition and publish them atomically",
    doc_md=DOC,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 6 * * *", timezone="UTC"),
        assets=AssetAny(REPARSED_ASSET, *(entities_asset(source) for source in configured_sources())),
    ),
    max_active_runs=1,
    is_paused_upon_creation=False,
    **DAG_DEFAULTS,
    tags=["paperlake", "marts"],
)
def paperlake_marts():
    @task(outlets=[MARTS_ASSET])
    def build_marts() -> dict:
        return pipeline.marts_stage(task_settings()).to_dict()

    @task
    def update_search_index(marts: dict) -> dict:
        # What the build committed to its exports names the partitions to re-read (no Delta log read).
        return pipeline.search_index_stage(task_settings(), marts_exports=marts.get("exports")).to_dict()

    update_search_index(build_marts())


paperlake_marts()
