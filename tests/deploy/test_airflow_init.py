"""deploy/airflow_init.py, the one Airflow initialisation: what the stack stores as connections, and the refusals
that must come before anything is written (the full run is in test_compose.py's airflow-init test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from deploy.airflow_init import connections_from_env
from deploy.stack.config import StackConfig
from deploy.stack.init import connection_env
from tests.conftest import REPO


def test_the_stack_stores_its_seaweedfs_keys_and_a_plain_local_mail_relay():
    config = StackConfig(1, 2, 3, {"s3.port": 9}, s3_access_key="paperlake-k", s3_secret_key="s3-secret")
    stored = connections_from_env(connection_env(config))
    assert stored["aws_default"] == {
        "conn_type": "aws", "login": "paperlake-k", "password": "s3-secret",
        "extra": json.dumps({"endpoint_url": "http://127.0.0.1:9", "region_name": "us-east-1"}),
    }
    smtp = stored["smtp_default"]
    assert (smtp["conn_type"], smtp["host"], smtp["port"], smtp["login"], smtp["password"]) == (
        "smtp",
        "127.0.0.1",
        25,
        None,
        None,
    )
    assert json.loads(smtp["extra"]) == {"disable_ssl": True, "disable_tls": True, "timeout": 10}


def run_init(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    home = tmp_path / "airflow"
    home.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_", "PAPERLAKE_S3"))}
    base |= {"AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db"}
    return subprocess.run([sys.executable, "-m", "deploy.airflow_init", *args], cwd=REPO, env=base | env,
                          capture_output=True, text=True, timeout=120)


def test_a_weak_admin_password_is_refused_before_anything_is_written(tmp_path):
    result = run_init(tmp_path, "--admin", AIRFLOW_ADMIN_PASSWORD="admin123")
    assert result.returncode == 1
    assert result.stderr.strip() == "refused: AIRFLOW_ADMIN_PASSWORD: shorter than 12 characters"
    assert not (tmp_path / "airflow.db").exists() and not any((tmp_path / "airflow").iterdir())


def test_connections_without_their_variables_are_one_line_naming_them(tmp_path):
    result = run_init(tmp_path, "--connections", AWS_ACCESS_KEY_ID="paperlake")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "airflow_init: --connections needs AWS_SECRET_ACCESS_KEY, PAPERLAKE_S3_ENDPOINT_URL in the environment"
    )
    assert not (tmp_path / "airflow.db").exists()


def test_the_local_plan_gives_airflow_s_sqlite_writers_a_30_s_busy_timeout(tmp_path, monkeypatch):
    """Under `make airflow` the scheduler, the API server and the executor's workers share one SQLite file: Airflow's
    engine must wait 30 s for a lock (SQLite's default is 5 s; a UI backfill then answered 500 "database is locked")."""
    from deploy.stack.plans import local_plan

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    env = local_plan().env
    probe = (
        "from airflow import settings\n"
        "with settings.engine.connect() as c:\n"
        "    print(c.exec_driver_sql('PRAGMA busy_timeout').scalar())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "30000"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://airflow@127.0.0.1:1/airflow")
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in local_plan().env  # psycopg2 takes no `timeout`
