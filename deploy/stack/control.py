"""Start, stop and status of the stack (`make stack`, `make stack-down`), and `make airflow` in the foreground."""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

from deploy import seaweed
from deploy.airflow_api import AirflowApi
from deploy.auth import ADMIN
from deploy.processes import ProcessRef, session_members, spawn, stop
from deploy.stack.config import (
    ADMIN_PASSWORD_VARIABLE,
    BUCKET,
    PASSWORD_FILE,
    REPO,
    WORKER_CONCURRENCY,
    WORKERS,
    StackConfig,
    load_config,
    stack_dir,
    write_private,
)
from deploy.stack.plans import local_plan, python_path, stack_plan
from deploy.stack.postgres import ensure_packages, init_postgres, postgres_user
from deploy.supervisor import Plan, Supervisor, read_state

log = logging.getLogger("paperlake.stack")


def env_file_text(state: Path, config: StackConfig, plan: Plan) -> str:
    airflow_keys = {
        k: v for k, v in plan.env.items() if k.startswith(("AIRFLOW", "PAPERLAKE_HOME", "PAPERLAKE_LAKE_URL"))
    }
    values = {
        **airflow_keys,
        "PYTHONPATH": python_path(),
        "AWS_ACCESS_KEY_ID": config.s3_access_key, "AWS_SECRET_ACCESS_KEY": config.s3_secret_key,
        "AWS_ENDPOINT_URL": config.s3_endpoint, "AWS_DEFAULT_REGION": "us-east-1",
        "PAPERLAKE_STACK_API_URL": config.api_url,
        "PAPERLAKE_STACK_ADMIN_USER": ADMIN, "PAPERLAKE_STACK_ADMIN_PASSWORD": config.admin_password,
    }
    lines = [f"# paperlake stack: `source {state / 'stack.env'}` to use airflow/paperlake against it"]
    return "\n".join(lines + [f"export {k}={shlex.quote(v)}" for k, v in values.items()]) + "\n"


def supervisor_ref(state: dict | None) -> ProcessRef | None:
    return ProcessRef(state["pid"], state["create_time"]) if state else None


def running_state(state_dir: Path) -> dict | None:
    state = read_state(state_dir / "supervisor.json")
    ref = supervisor_ref(state)
    return state if ref and ref.alive() else None


def print_banner(config: StackConfig, state: Path) -> None:
    print(
        f"\npaperlake stack is up (state, logs and pids under {state})\n"
        f"  Airflow UI   {config.api_url}   user: {ADMIN}   password: {config.admin_password}\n"
        f"  PostgreSQL   127.0.0.1:{config.postgres_port} (db airflow)   Redis 127.0.0.1:{config.redis_port}\n"
        f"  S3 (lake)    {config.s3_endpoint}   s3://{BUCKET}/lake\n"
        f"  Celery       {', '.join(WORKERS)} x {WORKER_CONCURRENCY} slots\n"
        f"  env file     source {state / 'stack.env'}\n"
        f"  stop         make stack-down\n",
        flush=True,
    )


def start(timeout: float = 900) -> int:
    state = stack_dir()
    if running_state(state):
        print(f"the stack is already running ({state}); `make stack-down` stops it")
        print_banner(StackConfig(**json.loads((state / "stack.json").read_text())), state)
        return 0
    started = time.monotonic()
    state.mkdir(parents=True, exist_ok=True)
    config = load_config(state / "stack.json")
    config.admin_password = os.environ.get(ADMIN_PASSWORD_VARIABLE) or config.admin_password
    if weak := config.weak_passwords():  # before anything is installed, written or started
        print("refusing to start the stack with a weak password:\n  " + "\n  ".join(weak), file=sys.stderr)
        print(
            f"choose another (${ADMIN_PASSWORD_VARIABLE} for the admin; the others are in {state / 'stack.json'})",
            file=sys.stderr,
        )
        return 1
    write_private(state / "stack.json", json.dumps(asdict(config), indent=1))
    ensure_packages()
    pg_user = postgres_user()
    for sub in ("redis", "seaweed", "logs"):
        (state / sub).mkdir(exist_ok=True)
    seaweed.prepare_workdir(state / "seaweed")
    init_postgres(state / "postgres", config.db_password, pg_user)
    plan = stack_plan(state, config, pg_user)
    write_private(state / "plan.json", plan.to_json())
    (state / "supervisor.json").unlink(missing_ok=True)
    supervisor_env = {k: v for k, v in os.environ.items() if k != ADMIN_PASSWORD_VARIABLE}
    process = spawn(
        [sys.executable, "-m", "deploy.supervisor", str(state / "plan.json")],
        {**supervisor_env, "PYTHONPATH": str(REPO)},
        state / "logs" / "supervisor.log",
        cwd=REPO,
    )
    log.info(
        "supervisor started (pid %d); waiting for every service (log: %s)",
        process.pid,
        state / "logs" / "supervisor.log",
    )
    deadline = time.monotonic() + timeout
    while True:
        current = read_state(state / "supervisor.json") or {}
        if current.get("phase") == "running":
            break
        if process.poll() is not None or current.get("phase") in ("failed", "stopped") or time.monotonic() > deadline:
            print((state / "logs" / "supervisor.log").read_text()[-4000:], file=sys.stderr)
            if process.poll() is None:
                stop_stack()
            print(f"the stack did not start; logs under {state / 'logs'}", file=sys.stderr)
            return 1
        time.sleep(1)
    wait_healthy(config.api_url, deadline)
    write_private(state / "stack.env", env_file_text(state, config, plan))
    print_banner(config, state)
    print(f"started in {time.monotonic() - started:.0f}s")
    return 0


def wait_healthy(api_url: str, deadline: float) -> dict:
    """Until the API reports the metadatabase, scheduler, triggerer and dag processor healthy."""
    api = AirflowApi(api_url)
    while True:
        try:
            health = api.health()
            if all(
                (health.get(part) or {}).get("status") == "healthy"
                for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            ):
                return health
        except Exception as err:  # the API restarting
            health = {"error": str(err)}
        if time.monotonic() > deadline:
            raise SystemExit(f"Airflow not healthy: {health}")
        time.sleep(1)


def stop_stack(timeout: float = 150) -> int:
    """SIGTERM the supervisor (it stops its services), then stop the session of every recorded service: a
    process still there gets SIGTERM, then SIGKILL."""
    state_dir = stack_dir()
    state = read_state(state_dir / "supervisor.json")
    if state is None:
        print(f"no stack state under {state_dir}: nothing to stop")
        return 0
    ref = supervisor_ref(state)
    if ref.alive():
        print(f"stopping the supervisor (pid {ref.pid}) and its services ...", flush=True)
        stop([ref], timeout=timeout)
    state = read_state(state_dir / "supervisor.json") or state
    leftovers = [ProcessRef.from_dict(s) for s in state.get("services", {}).values()]
    killed = stop(leftovers, timeout=10)
    if killed:
        print(f"killed leftover processes {killed}")
    config_path = state_dir / "stack.json"
    if config_path.exists():
        seaweed.remove_sockets(json.loads(config_path.read_text())["seaweed_ports"].values())
    alive = [p.pid for r in [ref, *leftovers] for p in session_members(r)]
    if alive:
        print(f"still running after stop: {alive}", file=sys.stderr)
        return 1
    print("stack stopped")
    return 0


def status() -> int:
    state_dir = stack_dir()
    state = read_state(state_dir / "supervisor.json")
    if state is None:
        print(f"no stack under {state_dir}")
        return 1
    up = supervisor_ref(state).alive()
    print(f"supervisor pid {state['pid']}: {'running' if up else 'not running'} (phase {state['phase']})")
    for name, s in state["services"].items():
        alive = ProcessRef.from_dict(s).alive()
        print(f"  {name:15} pid {s['pid']:>7}  {'up' if alive else 'DOWN'}  restarts {s['restarts']}  log {s['log']}")
    if up:
        config = StackConfig(**json.loads((state_dir / "stack.json").read_text()))
        try:
            print(json.dumps(AirflowApi(config.api_url).health(), indent=1))
        except Exception as err:
            print(f"API {config.api_url}: {err}")
    return 0 if up else 1


def run_local() -> int:
    """`make airflow`: the local plan in the foreground until Ctrl-C or SIGTERM."""
    plan = local_plan()
    port = plan.env["AIRFLOW__API__PORT"]
    home = Path(plan.env["AIRFLOW_HOME"])

    def banner() -> None:
        password_file = home / PASSWORD_FILE
        passwords = json.loads(password_file.read_text()) if password_file.exists() else {}
        print(
            f"\nAirflow UI: http://127.0.0.1:{port}   user: {ADMIN}   password: "
            f"{passwords.get(ADMIN, '(see ' + str(password_file) + ')')}\n"
            f"component logs: {plan.log_dir}/   stop: Ctrl-C (or SIGTERM to this process)\n",
            flush=True,
        )

    print(f"starting api-server, scheduler, dag-processor and triggerer (logs in {plan.log_dir}/)", flush=True)
    return Supervisor(plan).run(on_ready=banner)
