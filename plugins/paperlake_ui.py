"""Airflow glue for the paperlake page: mount the page's FastAPI app in the API server, add a UI navigation entry.

Plugin apps are not behind Airflow's login: every route of the page depends on Airflow's own access checks,
which take the UI's session cookie or an `Authorization: Bearer` token (401/403 without a valid one), then ask
the auth manager whether the user may read DAGs and assets (403 otherwise): the page shows what the DAGs
wrote and links to their runs. With the FAB auth manager the Viewer role and above may; a role without
those two permissions may not.
Every task process loads this file too, so the app (FastAPI, Airflow's API security) is built on first use.
"""

from __future__ import annotations

from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin

from paperlake.config import Settings
from paperlake.dashboard.app import BuiltOnFirstRequest, create_app
from paperlake_airflow import ingest_dag_id

URL_PREFIX = "/paperlake"


def ingest_run_path(source: str, airflow_run_id: str) -> str:
    """The UI path of an ingest DAG's Airflow run, below the UI's root."""
    return f"dags/{ingest_dag_id(source)}/runs/{quote(airflow_run_id, safe='')}"


def build_page_app():
    from airflow.api_fastapi.core_api.security import requires_access_asset, requires_access_dag
    from fastapi import Depends

    def may_read_dags_and_assets(
        _dags=Depends(requires_access_dag("GET")), _assets=Depends(requires_access_asset("GET"))
    ) -> None:
        """The user may read DAGs and assets (else 403): what the page shows."""

    return create_app(Settings.from_env, may_read_dags_and_assets, ingest_run_path)


class PaperlakePlugin(AirflowPlugin):
    name = "paperlake"
    fastapi_apps = [{"app": BuiltOnFirstRequest(build_page_app), "url_prefix": URL_PREFIX, "name": "paperlake"}]
    # `url_route` shows the page inside the UI (an iframe under /plugin/paperlake); `href` has no leading slash.
    external_views = [
        {"name": "paperlake", "href": URL_PREFIX.lstrip("/") + "/", "destination": "nav", "url_route": "paperlake"}
    ]
