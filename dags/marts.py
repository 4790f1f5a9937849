"""Rebuild the DuckDB marts whenever any source's entities asset is updated."""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task

from paperlake import pipeline
from paperlake_airflow import DAG_DEFAULTS, MARTS_ASSET, configured_sources, entities_asset, task_settings


@dag(
    dag_id="paperlake_marts",
    description="Build the marts from the whole lake into a new DuckDB file and publish it atomically",
    schedule=AssetAny(*(entities_asset(source) for source in configured_sources())),
    max_active_runs=1,
    **DAG_DEFAULTS,
    tags=["paperlake", "marts"],
)
def paperlake_marts():
    @task(outlets=[MARTS_ASSET])
    def build_marts() -> dict:
        return pipeline.marts_stage(task_settings())

    build_marts()


paperlake_marts()
