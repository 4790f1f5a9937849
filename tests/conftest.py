"""Shared fixtures: a temp lake, a real SeaweedFS S3 server, an initialised Airflow home."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

# Airflow reads its configuration when first imported: give the whole test session its own
# home (never the developer's .paperlake/), before any test module imports airflow.
_SESSION_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="paperlake-test-airflow-"))
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(_SESSION_AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_SESSION_AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    "PAPERLAKE_TASK_RETRIES": "0",
}
os.environ.update(AIRFLOW_ENV)

from paperlake.config import Settings  # noqa: E402
from paperlake.lake import Lake  # noqa: E402
from tests.support.seaweed import SeaweedServer  # noqa: E402


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Defaults with the lake in a temp folder; independent of the caller's environment."""
    return Settings.from_env({"PAPERLAKE_HOME": str(tmp_path / "home")})


@pytest.fixture
def lake(settings) -> Lake:
    return Lake.from_settings(settings)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A real S3 server (SeaweedFS `weed mini`) on 127.0.0.1 with fresh ports, stopped by PID afterwards."""
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


_BUCKET_NUMBERS = itertools.count(1)


@pytest.fixture
def s3_bucket(seaweed) -> str:
    """A new empty bucket per test."""
    name = f"t-{next(_BUCKET_NUMBERS)}-{os.getpid()}"
    seaweed.client().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def airflow_home():
    """The session's Airflow home with its SQLite metadata database migrated."""
    env = {**os.environ, **AIRFLOW_ENV}
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "deploy.airflow_init"], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return _SESSION_AIRFLOW_HOME
