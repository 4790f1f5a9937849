"""One ingest DAG per configured source: fetch -> clean -> validate -> tag, a partition per task."""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, chain, dag, task

from paperlake import pipeline
from paperlake_airflow import (
    DAG_DEFAULTS,
    configured_sources,
    data_interval,
    entities_asset,
    fetch_pool,
    partition_day,
    task_settings,
)


def build_ingest_dag(source: str):
    @dag(
        dag_id=f"paperlake_ingest_{source}",
        description=f"Fetch, clean, validate and tag the {source} source into the lake, one date per run",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
        max_active_runs=4,
        **DAG_DEFAULTS,
        tags=["paperlake", "ingest", source],
        params={"reparse": Param(False, type="boolean", description="rebuild from the raw layer without fetching")},
    )
    def ingest():
        @task(pool=fetch_pool(source))
        def fetch(params: dict, **context) -> dict:
            if params["reparse"]:
                return pipeline.landed_raw_stage(task_settings(), source, partition_day(context))
            return pipeline.fetch_stage(task_settings(), source, partition_day(context), data_interval(context))

        @task
        def clean(**context) -> dict:
            return pipeline.clean_stage(task_settings(), source, partition_day(context))

        @task
        def validate(**context) -> dict:
            from airflow.sdk.exceptions import AirflowFailException

            from paperlake.validate import QuarantineThresholdExceeded

            try:
                return pipeline.validate_stage(task_settings(), source, partition_day(context), run_id=context["run_id"])
            except QuarantineThresholdExceeded as err:  # a retry would reject the same rows: fail now
                raise AirflowFailException(str(err)) from err

        @task(outlets=[entities_asset(source)])
        def tag(**context) -> dict:
            return pipeline.tag_stage(task_settings(), source, partition_day(context))

        chain(fetch(), clean(), validate(), tag())

    return ingest()


for _source in configured_sources():
    globals()[f"paperlake_ingest_{_source}"] = build_ingest_dag(_source)
