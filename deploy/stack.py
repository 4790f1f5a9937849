"""Run paperlake's Airflow as local processes under `deploy.supervisor`.

    python -m deploy.stack start    # production topology in the background (`make stack`)
    python -m deploy.stack stop     # stop it all by PID (`make stack-down`)
    python -m deploy.stack status
    python -m deploy.stack airflow  # embedded default in the foreground (`make airflow`)

The stack: PostgreSQL (metadata), Redis (Celery broker), SeaweedFS (the lake's S3), then Airflow with
the CeleryExecutor: api-server, scheduler, dag-processor, triggerer and two Celery workers, and the FAB
auth manager (users and roles in the metadata database; `admin` has the Admin role). Everything listens
on 127.0.0.1; state, logs and PIDs live under `$PAPERLAKE_HOME/stack/`. Its passwords are generated, or
the admin's is taken from $PAPERLAKE_STACK_ADMIN_PASSWORD; a weak one is refused before anything starts.
"""

from __future__ import annotations

import argparse
import configparser
import json
import logging
import os
import pwd
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy import airflow_init, seaweed
from deploy.auth import ADMIN, FAB_AUTH_MANAGER, weakness
from deploy.processes import ProcessRef, free_ports, port_free, session_members, spawn, stop
from deploy.supervisor import Plan, Service, Supervisor, Task, configure_logging, read_state

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")
OS_USER = "paperlake"  # PostgreSQL refuses to run as root: its cluster belongs to this user
BUCKET = "paperlake"
WORKERS = ("paperlake-worker-1", "paperlake-worker-2")
WORKER_CONCURRENCY = 2
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"  # `make airflow`: the development auth manager
ADMIN_PASSWORD_VARIABLE = "PAPERLAKE_STACK_ADMIN_PASSWORD"
# Caller variables that must not leak into the stack: the stack sets its own Airflow, lake and AWS settings,
# and no task process gets to read the admin's password from its environment.
NOT_PASSED_ON = ("AIRFLOW", "AWS_", "PAPERLAKE_HOME", "PAPERLAKE_LAKE_URL", "PAPERLAKE_S3_", "PYTHONPATH", ADMIN_PASSWORD_VARIABLE)

log = logging.getLogger("paperlake.stack")


def paperlake_home() -> Path:
    return Path(os.environ.get("PAPERLAKE_HOME", REPO / ".paperlake")).resolve()


def stack_dir() -> Path:
    return paperlake_home() / "stack"


# --- configuration kept between starts ---

@dataclass
class StackConfig:
    """Ports and secrets of one stack, kept in stack.json (mode 600) so a restart finds its data again."""

    postgres_port: int
    redis_port: int
    api_port: int
    seaweed_ports: dict[str, int]
    db_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    s3_access_key: str = field(default_factory=lambda: "paperlake-" + secrets.token_hex(4))
    s3_secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    @classmethod
    def new(cls) -> StackConfig:
        ports = free_ports(3 + len(seaweed.PORT_FLAGS))
        return cls(ports[0], ports[1], ports[2], dict(zip(seaweed.PORT_FLAGS, ports[3:])))

    def ports(self) -> list[int]:
        return [self.postgres_port, self.redis_port, self.api_port, *self.seaweed_ports.values()]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.seaweed_ports['s3.port']}"

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg2://airflow:{self.db_password}@127.0.0.1:{self.postgres_port}/airflow"

    def weak_passwords(self) -> list[str]:
        """One line per password of this stack that `deploy.auth.weakness` refuses."""
        checked = (("admin password", self.admin_password, ADMIN), ("PostgreSQL password", self.db_password, "airflow"),
                   ("S3 secret key", self.s3_secret_key, None))
        return [f"{what}: {reason}" for what, password, user in checked if (reason := weakness(password, user))]


def load_config(path: Path) -> StackConfig:
    """The saved config with its ports, or new ports for all if any saved one is taken now."""
    if path.exists():
        config = StackConfig(**json.loads(path.read_text()))
        if all(port_free(p) for p in config.ports()):
            return config
        fresh = StackConfig.new()
        log.info("a saved port is taken: moving the stack to new ports")
        config.postgres_port, config.redis_port, config.api_port, config.seaweed_ports = (
            fresh.postgres_port, fresh.redis_port, fresh.api_port, fresh.seaweed_ports,
        )
    else:
        config = StackConfig.new()
    write_private(path, json.dumps(asdict(config), indent=1))
    return config


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


# --- system packages and the PostgreSQL cluster ---

def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def ensure_packages() -> None:
    """Install Debian's postgresql and redis-server when their binaries are missing (root only)."""
    missing = [pkg for pkg, binary in (("postgresql", "initdb"), ("redis-server", "redis-server")) if not find_binary(binary)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"missing {', '.join(missing)}: run `sudo apt-get install -y {' '.join(missing)}` and retry")
    log.info("installing %s with apt-get", " ".join(missing))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def postgres_user() -> str | None:
    """The unprivileged user PostgreSQL runs as when we are root (created if missing); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER], check=True)
    return OS_USER


def check_traversable(path: Path, user: str) -> None:
    """PostgreSQL running as `user` must reach its data folder: every parent needs the x bit for others."""
    for parent in path.parents:
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            raise SystemExit(f"{parent} is not searchable by the `{user}` user PostgreSQL runs as; chmod o+x it or set PAPERLAKE_HOME elsewhere")


def init_postgres(data: Path, password: str, user: str | None) -> None:
    """A new cluster (`initdb`) with the `airflow` superuser and password auth, unless one exists."""
    if (data / "PG_VERSION").exists():
        return
    if user:
        check_traversable(data, user)
    data.mkdir(parents=True, exist_ok=True)
    pwfile = data.parent / "pg-password.tmp"
    write_private(pwfile, password + "\n")
    if user:
        shutil.chown(data, user)
        shutil.chown(pwfile, user)
    data.chmod(0o700)
    try:
        subprocess.run(
            [find_binary("initdb"), "-D", str(data), "-U", "airflow", "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8"],
            check=True, user=user, stdout=subprocess.DEVNULL, cwd="/",
        )
    finally:
        pwfile.unlink(missing_ok=True)


# --- the plans ---

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
    init = Task("init", [sys.executable, "-m", "deploy.stack", "init"], env={"PAPERLAKE_HOME": str(paperlake_home())}, timeout=600)
    workers = [
        Service(
            name, [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(WORKER_CONCURRENCY),
                   "--skip-serve-logs", "--pid", str(state / f"{name}.pid")],
            env={"PAPERLAKE_WORKER_HOSTNAME": name, "AIRFLOW__CORE__HOSTNAME_CALLABLE": "deploy.hostname.worker_hostname"},
            ready={"log": " ready."}, ready_timeout=120, stop_timeout=45,
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
    steps = [
        Task("init", [sys.executable, "-m", "deploy.airflow_init"], timeout=420),
        *airflow_services(port),
    ]
    return Plan("local", home / "supervisor", env, steps)


# --- the one-shot init task the stack runs once its infrastructure is up ---

def connection_env(config: StackConfig) -> dict[str, str]:
    """The variables `airflow_init.connections_from_env` reads, for this stack's SeaweedFS and mail relay."""
    return {
        "AWS_ACCESS_KEY_ID": config.s3_access_key, "AWS_SECRET_ACCESS_KEY": config.s3_secret_key,
        "PAPERLAKE_S3_ENDPOINT_URL": config.s3_endpoint, "AWS_DEFAULT_REGION": "us-east-1",
        "SMTP_HOST": os.environ.get("PAPERLAKE_STACK_SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": os.environ.get("PAPERLAKE_STACK_SMTP_PORT", "25"),
        "SMTP_DISABLE_SSL": "1", "SMTP_DISABLE_TLS": "1", "SMTP_TIMEOUT": "10",
    }


def init_stack() -> None:
    """Database and bucket, then the one Airflow initialisation (migrate, pools, connections, the admin user)."""
    import psycopg2

    state = stack_dir()
    config = StackConfig(**json.loads((state / "stack.json").read_text()))
    con = psycopg2.connect(host="127.0.0.1", port=config.postgres_port, user="airflow", password=config.db_password, dbname="postgres")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'airflow'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE airflow")
    con.close()
    client = seaweed.s3_client(config.s3_endpoint, config.s3_access_key, config.s3_secret_key)
    seaweed.wait_until_ready(client, timeout=60, bucket=BUCKET)
    airflow_init.initialise(airflow_init.connections_from_env(connection_env(config)), config.admin_password)
    check_shared_secrets(Path(os.environ["AIRFLOW_HOME"]) / "airflow.cfg")


def check_shared_secrets(cfg_path: Path) -> None:
    """Separately started components must share these, or tasks fail to authenticate or decrypt."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(cfg_path)
    for section, key in (("core", "fernet_key"), ("api", "secret_key"), ("api_auth", "jwt_secret")):
        if not cfg.get(section, key, fallback="").strip():
            raise SystemExit(f"{cfg_path}: [{section}] {key} is empty; the components would not share it")


# --- start / stop / status ---

def env_file_text(state: Path, config: StackConfig, plan: Plan) -> str:
    airflow_keys = {k: v for k, v in plan.env.items() if k.startswith(("AIRFLOW", "PAPERLAKE_HOME", "PAPERLAKE_LAKE_URL"))}
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
        print(f"choose another (${ADMIN_PASSWORD_VARIABLE} for the admin; the others are in {state / 'stack.json'})", file=sys.stderr)
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
    process = spawn([sys.executable, "-m", "deploy.supervisor", str(state / "plan.json")], {**supervisor_env, "PYTHONPATH": str(REPO)},
                    state / "logs" / "supervisor.log", cwd=REPO)
    log.info("supervisor started (pid %d); waiting for every service (log: %s)", process.pid, state / "logs" / "supervisor.log")
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
    from deploy.airflow_api import AirflowApi

    api = AirflowApi(api_url)
    while True:
        try:
            health = api.health()
            if all((health.get(part) or {}).get("status") == "healthy" for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")):
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
        from deploy.airflow_api import AirflowApi

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
            f"\nAirflow UI: http://127.0.0.1:{port}   user: {ADMIN}   password: {passwords.get(ADMIN, '(see ' + str(password_file) + ')')}\n"
            f"component logs: {plan.log_dir}/   stop: Ctrl-C (or SIGTERM to this process)\n",
            flush=True,
        )

    print(f"starting api-server, scheduler, dag-processor and triggerer (logs in {plan.log_dir}/)", flush=True)
    return Supervisor(plan).run(on_ready=banner)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "airflow", "init"])
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "init":
        init_stack()
        return 0
    return {"start": start, "stop": stop_stack, "status": status, "airflow": run_local}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
