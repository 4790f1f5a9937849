"""What the supervisor runs: the production stack's plan and `make airflow`'s local one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from deploy import seaweed
from deploy.auth import FAB_AUTH_MANAGER
from deploy.stack.config import (
    AIRFLOW,
    BIN,
    BUCKET,
    NOT_PASSED_ON,
    REPO,
    WORKER_CONCURRENCY,
    WORKERS,
    StackConfig,
    paperlake_home,
)
from deploy.stack.postgres import find_binary
from deploy.supervisor import Plan, Service, Task


def python_path() -> str:
    # include/ first: the tasks run this checkout's library, whatever the venv has installed.
    return f"{REPO / 'include'}:{REPO}"


def airflow_common_env(home: Path, api_port: int) -> dict[str, str]:
    """What every Airflow process of either topology shares (secrets come from the generated airflow.cfg)."""
    return {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": python_path(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
    }


def passed_on_env() -> dict[str, str]:
    """The caller's environment minus Airflow/AWS/lake settings (PAPERLAKE_* tuning passes through)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(NOT_PASSED_ON)}


def airflow_services(api_port: int, api_server_env: dict[str, str] | None = None) -> list[Service]:
    """api-server (with `api_server_env` added), then scheduler, dag-processor and triggerer; logs are read
    from the shared local folder, so no component opens a log server (they would listen on every interface)."""
    health = f"http://127.0.0.1:{api_port}/api/v2/monitor/health"
    return [
        Service("api-server", [AIRFLOW, "api-server", "--host", "127.0.0.1"], env=api_server_env or {},
                ready={"http": health}, ready_timeout=180,
                ready_before_next=True),  # tasks report to its execution API: a run queued before it answers fails
        Service("scheduler", [AIRFLOW, "scheduler", "--skip-serve-logs"]),
        Service("dag-processor", [AIRFLOW, "dag-processor"]),
        Service("triggerer", [AIRFLOW, "triggerer", "--skip-serve-logs"], stop_timeout=45),
    ]


def stack_plan(state: Path, config: StackConfig, pg_user: str | None) -> Plan:
    home = state / "airflow"
    env = {
        **passed_on_env(),
        **airflow_common_env(home, config.api_port),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": config.db_url,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{config.redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + config.db_url.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        "PAPERLAKE_HOME": str(paperlake_home()),
        "PAPERLAKE_LAKE_URL": f"s3://{BUCKET}/lake",
    }
    postgres = find_binary("postgres")
    infra = [
        Service(
            "postgres", [postgres, "-D", str(state / "postgres"), "-p", str(config.postgres_port),
                         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
            stage=0, user=pg_user, cwd="/", stop_signal="SIGINT", ready={"tcp": config.postgres_port}, ready_timeout=60,
        ),
        Service(
            "redis", [find_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(config.redis_port),
                      "--save", "", "--appendonly", "no", "--dir", str(state / "redis")],
            stage=0, ready={"tcp": config.redis_port}, ready_timeout=30,
        ),
        Service(
            "seaweedfs", seaweed.weed_command(state / "seaweed", config.seaweed_ports),
            env={"AWS_ACCESS_KEY_ID": config.s3_access_key, "AWS_SECRET_ACCESS_KEY": config.s3_secret_key},
            stage=0, ready={"tcp": config.seaweed_ports["s3.port"]}, ready_timeout=60,
        ),
    ]
    init = Task(
        "init",
        [sys.executable, "-m", "deploy.stack", "init"],
        env={"PAPERLAKE_HOME": str(paperlake_home())},
        timeout=600,
    )
    workers = [
        Service(
            name,
            [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(WORKER_CONCURRENCY),
             "--skip-serve-logs", "--pid", str(state / f"{name}.pid")],
            env={
                "PAPERLAKE_WORKER_HOSTNAME": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "deploy.hostname.worker_hostname",
            },
            ready={"log": " ready."},
            ready_timeout=120,
            stop_timeout=45,
        )
        for name in WORKERS
    ]
    # The paperlake page, served by the API server, reads the marts with the process's S3 settings (tasks
    # use the aws_default connection instead).
    page_s3 = {"PAPERLAKE_S3_ENDPOINT_URL": config.s3_endpoint, "AWS_ACCESS_KEY_ID": config.s3_access_key,
               "AWS_SECRET_ACCESS_KEY": config.s3_secret_key, "AWS_DEFAULT_REGION": "us-east-1"}
    steps = [*infra, init, *airflow_services(config.api_port, page_s3), *workers]
    return Plan("stack", state, env, steps)


def local_plan() -> Plan:
    """`make airflow`: SQLite + LocalExecutor from the caller's environment (the Makefile's exports)."""
    home = Path(os.environ.get("AIRFLOW_HOME", paperlake_home() / "airflow")).resolve()
    port = int(os.environ.get("AIRFLOW__API__PORT", "8080"))
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        **airflow_common_env(home, port),
        "AIRFLOW__CORE__EXECUTOR": os.environ.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home}/airflow.db"),
    }
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "deploy.sqlite.CONNECT_ARGS")
    steps = [
        Task("init", [sys.executable, "-m", "deploy.airflow_init"], timeout=420),
        *airflow_services(port),
    ]
    return Plan("local", home / "supervisor", env, steps)
