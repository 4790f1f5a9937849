"""The production topology (`make stack`): FAB roles deciding who reads the paperlake page, a UI-style
backfill of three arXiv days through Celery workers into S3, the marts following by themselves, a
reprocessing backfill that changes no row, and nothing of the tree left after `stack stop`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from deploy.airflow_api import AirflowApi, wait_until
from deploy.processes import ProcessRef
from deploy.stack.config import WORKERS
from deploy.supervisor import read_state
from paperlake.commit import current_commits
from paperlake.config import S3Options, Settings
from paperlake.lake import Lake
from tests.conftest import REPO
from tests.deploy.support import (
    LAYERS,
    UI_CONF,
    arxiv_day_answer,
    kill_leftovers,
    layer_tables,
    marts_dates,
    read_env_file,
    scenario_mark,
)
from tests.support.recorded_http import serve

pytestmark = pytest.mark.deploy
INGEST, MARTS, DIGEST = "paperlake_ingest_arxiv", "paperlake_marts", "paperlake_digest"
DAYS = [date(2026, 11, 24) + timedelta(days=i) for i in range(3)]
RUNS_TIMEOUT = 900


def stack_command(command: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deploy.stack", command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def arxiv_api():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server, serve(server, "/api/query", arxiv_day_answer)
    finally:
        server.clear()
        server.stop()


@pytest.fixture(scope="module")
def stack(arxiv_api):
    """`deploy.stack start` with the arXiv API pointed at the local server; stopped by PID in any case."""
    server, _ = arxiv_api
    # PostgreSQL runs as an unprivileged user: its folder must be reachable (pytest's tmp is 0700).
    home = Path(tempfile.mkdtemp(prefix="paperlake-stack-test-"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_", "PAPERLAKE_"))}
    env |= {
        "PAPERLAKE_HOME": str(home),
        "PAPERLAKE_ARXIV_API_URL": server.url_for("/api/query"),
        "PAPERLAKE_ARXIV_PAGE_SIZE": "2",
        "PAPERLAKE_ARXIV_MIN_INTERVAL": "0.2",
        "PAPERLAKE_TASK_RETRIES": "0",
        **scenario_mark(),
    }
    started = time.monotonic()
    try:
        result = stack_command("start", env, timeout=1200)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
        print(f"\nstack started in {time.monotonic() - started:.0f}s")
        yield home, read_env_file(home / "stack" / "stack.env")
    finally:
        result = stack_command("stop", env, timeout=300)
        state = read_state(home / "stack" / "supervisor.json") or {"services": {}}
        left = [s["pid"] for s in state["services"].values() if ProcessRef.from_dict(s).alive()]
        stray = kill_leftovers(env)  # anything of the tree: PostgreSQL backends, Celery pool processes, tasks
        shutil.rmtree(home, ignore_errors=True)
        assert result.returncode == 0 and not left and not stray, (
            f"stop left {left}\n{stray}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def lake_of(home: Path, env: dict) -> tuple[Lake, Settings]:
    settings = Settings.from_env(
        {"PAPERLAKE_HOME": str(home / "reader"), "PAPERLAKE_LAKE_URL": env["PAPERLAKE_LAKE_URL"]}
    )
    settings = settings._replace(
        s3=S3Options(env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    )
    return Lake.from_settings(settings), settings


def unpause_if_paused(api: AirflowApi, dag_id: str) -> bool:
    """Asset events to a paused consumer are dropped; until the DAGs are created unpaused, unpause them here."""
    if api.dag(dag_id)["is_paused"]:
        api.set_paused(dag_id, False)
        print(f"\n{dag_id} was created paused: unpaused by the test")
        return True
    return False


def assert_all_succeeded(api: AirflowApi, dag_id: str, timeout: float = 300) -> list[dict]:
    """Every run of `dag_id` (backfill, asset-triggered, or the scheduled one an unpaused DAG starts) succeeded."""
    runs = wait_until(
        lambda: (runs := api.dag_runs(dag_id)) and all(r["state"] in ("success", "failed") for r in runs) and runs,
        timeout, f"every {dag_id} run finished",
    )
    assert all(r["state"] == "success" for r in runs), [(r["dag_run_id"], r["state"]) for r in runs]
    return runs


def marts_settled(api: AirflowApi, lake: Lake, settings: Settings, after: float) -> bool:
    """The marts and digest DAGs have nothing left to do and the marts were rebuilt since `after`."""
    for dag_id in (MARTS, DIGEST):
        runs = api.dag_runs(dag_id)
        if not runs or any(r["state"] not in ("success", "failed") for r in runs):
            return False
    published = lake.store.list_modified("marts").get("marts/paperlake.duckdb", 0)
    return published > after and marts_dates(lake, settings, "arxiv") >= set(DAYS)


def assert_the_page_needs_the_read_permissions(admin: AirflowApi) -> AirflowApi:
    """FAB roles, for real: a Viewer reads the paperlake page; a logged-in user whose role (Public) may not
    read DAGs and assets gets 403 there, as on the REST API; no login at all, 401. Returns the Viewer."""
    password = "Reader-" + uuid.uuid4().hex[:12]
    for username, role in (("reader", "Viewer"), ("nobody", "Public")):
        admin.create_fab_user(username, password, role)
    reader, nobody = AirflowApi(admin.base_url, "reader", password), AirflowApi(admin.base_url, "nobody", password)
    reader.login()
    nobody.login()
    assert reader.http.get("/paperlake/").status_code == 200
    assert reader.http.get("/api/v2/dags").status_code == 200
    assert nobody.http.get("/paperlake/").status_code == 403
    assert nobody.http.get("/paperlake/trends").status_code == 403
    assert nobody.http.get("/api/v2/dags").status_code == 403
    assert httpx.get(admin.base_url + "/paperlake/").status_code == 401
    return reader


def test_ui_backfill_runs_on_both_celery_workers_into_s3_and_reprocessing_changes_no_row(stack, arxiv_api):
    home, env = stack
    _, script = arxiv_api
    api = AirflowApi(
        env["PAPERLAKE_STACK_API_URL"], env["PAPERLAKE_STACK_ADMIN_USER"], env["PAPERLAKE_STACK_ADMIN_PASSWORD"]
    )
    api.login()
    wait_until(
        lambda: api.dag(INGEST) and api.dag(MARTS) and api.dag(DIGEST), 300, "the DAGs parsed by the dag-processor"
    )
    for dag_id in (MARTS, DIGEST):
        unpause_if_paused(api, dag_id)
    reader = assert_the_page_needs_the_read_permissions(api)

    # As the UI's backfill form: unpause the DAG, then POST /api/v2/backfills.
    api.set_paused(INGEST, False)
    began = time.monotonic()
    backfill = api.create_backfill(INGEST, DAYS[0], DAYS[-1], max_active_runs=3, dag_run_conf=UI_CONF)
    api.wait_for_backfill(backfill["id"], RUNS_TIMEOUT)
    runs = [r for r in assert_all_succeeded(api, INGEST) if r["run_type"] == "backfill"]
    assert sorted(r["logical_date"][:10] for r in runs) == [d.isoformat() for d in DAYS]
    print(f"\nbackfill of {len(DAYS)} days: {time.monotonic() - began:.0f}s")

    task_instances = [ti for r in runs for ti in api.task_instances(INGEST, r["dag_run_id"])]
    # tag may be one task or mapped over chunks (then merge_tags joins them)
    assert {"fetch", "parse", "validate", "tag", "commit"} <= {ti["task_id"] for ti in task_instances}
    assert all(ti["state"] == "success" for ti in task_instances)
    assert {ti["hostname"] for ti in task_instances} == set(WORKERS), "tasks did not run on both Celery workers"
    asked = {re.search(r"submittedDate:\[(\d{8})", r.args["search_query"])[1] for r in script.requests}
    assert asked >= {d.strftime("%Y%m%d") for d in DAYS}

    lake, settings = lake_of(home, env)
    commits = current_commits(lake.store)
    assert {day for (source, day) in commits if source == "arxiv"} >= set(DAYS)
    for layer in LAYERS:  # each day's committed run has its Parquet file in every layer, on S3
        keys = [lake.run_key(layer, "arxiv", d, commits[("arxiv", d)].run_id) for d in DAYS]
        assert all(lake.store.exists(key) for key in keys), (layer, keys)
    tables = layer_tables(lake, "arxiv", DAYS)
    assert all(tables[("clean", d)].num_rows == 3 for d in DAYS)

    wait_until(
        lambda: marts_settled(api, lake, settings, after=0),
        600,
        "the marts DAG rebuilding the marts with the three dates",
    )
    marts_runs = assert_all_succeeded(api, MARTS)
    # it ran by itself (a daily run may be there too)
    assert any(r["run_type"] == "asset_triggered" for r in marts_runs)
    health = reader.http.get("/paperlake/")  # the API server reads the published marts on S3
    assert health.status_code == 200
    # not gap rows
    assert {d.isoformat() for d in DAYS} <= set(
        re.findall(r'<tr data-source="arxiv" data-date="([\d-]+)">', health.text)
    )

    tag = next(ti for ti in task_instances if ti["task_id"] == "tag")
    text = api.task_log(INGEST, tag["dag_run_id"], "tag", tag["try_number"], tag["map_index"])
    # its counts: the returned summary ('papers': 3, 'texts_tagged': ...) or the stage's INFO line
    # (3 papers ... texts tagged)
    assert re.search(r"papers\W{1,4}3\b|\b3 papers\b", text) and re.search(r"texts.tagged", text), text[-3000:]

    # Reprocess every day (the form's "All Runs"): new runs commit, and every layer keeps its rows.
    published = time.time()
    again = api.create_backfill(
        INGEST, DAYS[0], DAYS[-1], reprocess_behavior="completed", max_active_runs=3, dag_run_conf=UI_CONF
    )
    api.wait_for_backfill(again["id"], RUNS_TIMEOUT)
    assert_all_succeeded(api, INGEST)
    after = current_commits(lake.store)
    assert all(after[("arxiv", d)].generation == commits[("arxiv", d)].generation + 1 for d in DAYS)
    assert all(after[("arxiv", d)].rows == commits[("arxiv", d)].rows for d in DAYS)
    assert layer_tables(lake, "arxiv", DAYS) == tables
    wait_until(
        lambda: marts_settled(api, lake, settings, after=published), 600, "the marts rebuilt after the reprocessing"
    )
    assert_all_succeeded(api, MARTS)
    assert_all_succeeded(api, DIGEST)
