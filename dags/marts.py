"""Rebuild the DuckDB marts whenever any source's entities asset is updated."""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAny, dag, task

from paperlake import pipeline
from paperlake_airflow import DEFAULT_ARGS, MARTS_ASSET, configured_sources, entities_asset, task_settings


@dag(
    dag_id="paperlake_marts",
    description="Build the marts from the whole lake into a new DuckDB file and publish it atomically",
    schedule=AssetAny(*(entities_asset(source) for source in configured_sources())),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["paperlake", "marts"],
)
def paperlake_marts():
    @task(outlets=[MARTS_ASSET])
    def build_marts() -> dict:
        return pipeline.marts_stage(task_settings())

    build_marts()


paperlake_marts()
