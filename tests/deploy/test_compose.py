"""The Docker Compose deployment, checked without a Docker daemon.

Static: docker-compose.yaml parsed with PyYAML (anchors resolved) for the topology's invariants,
`docker-compose config` and the compose-spec JSON schema when those tools are installed, the
Dockerfile, and .env.example against every ${VAR} the compose file reads.
Behavioural: the two one-shot init scripts embedded in the compose file run for real, airflow-init
against a throwaway SQLite metadata DB and seaweedfs-init against the tests' SeaweedFS server.

A missing `docker-compose` or `check-jsonschema` skips its test; with PAPERLAKE_REQUIRE_COMPOSE_TOOLS=1
(for CI) it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
APP_DIR = "/opt/paperlake/app"  # where the image keeps the repository (Dockerfile WORKDIR)
VENV_BIN = Path(sys.executable).parent

INIT = "airflow-init"
COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker")
AIRFLOW_SERVICES = (INIT, *COMPONENTS)
SERVICES = {"postgres", "redis", "seaweedfs", "seaweedfs-init", *AIRFLOW_SERVICES}
SHARED_SETTINGS = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__AUTH_MANAGER",
    "AIRFLOW__LOGGING__LOGGING_LEVEL",
    "PAPERLAKE_LAKE_URL",
    "PAPERLAKE_HOME",
)
SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY")
# ${NAME}, ${NAME:-default}, ${NAME:?error} and $NAME; $$ is compose's escape for a literal $.
VARIABLE = re.compile(r"(?<!\$)(?:\$\$)*\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML (and docker-compose 1.29, which uses it) silently keeps the last of two equal keys:
    a second `depends_on:` or `environment:` in one service would quietly replace the first."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden on purpose
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def depends_on(service: dict) -> dict[str, str]:
    """{service: condition}; the short list form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: not NAME=value: {line!r}"
            pairs[name.strip()] = value
    return pairs


def host_ports(service: dict) -> set[int]:
    ports = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):  # long syntax
            ports.add(int(port["published"]))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 1:
            raise AssertionError(f"port {port!r} publishes a random host port: name it explicitly")
        ports.add(int(parts[-2]))
    return ports


def require_tool(name: str) -> str:
    found = shutil.which(name) or (str(VENV_BIN / name) if (VENV_BIN / name).exists() else None)
    if found is None:
        message = f"{name} is not installed"
        if os.environ.get("PAPERLAKE_REQUIRE_COMPOSE_TOOLS"):
            pytest.fail(message + " (PAPERLAKE_REQUIRE_COMPOSE_TOOLS is set)")
        pytest.skip(message)
    return found


# --- topology -------------------------------------------------------------------------------


def test_no_key_is_written_twice():
    yaml.load(COMPOSE.read_text(), Loader=UniqueKeyLoader)


def test_every_service_of_the_topology_exists(services):
    assert SERVICES <= set(services), f"missing: {sorted(SERVICES - set(services))}"


def test_airflow_services_share_the_common_settings_and_image(compose, services):
    common = compose["x-airflow-common"]
    common_env = env_of(common)
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert "@postgres/" in common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert common_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
    assert common_env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert str(common_env["AIRFLOW__CORE__LOAD_EXAMPLES"]).lower() == "false"
    assert common_env["AIRFLOW__LOGGING__LOGGING_LEVEL"] == "INFO"
    assert common_env["PAPERLAKE_LAKE_URL"] == "s3://paperlake/lake"
    assert common_env["PAPERLAKE_HOME"] == "/opt/paperlake/state"
    assert common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
    assert common.get("image") and common.get("build"), "the common anchor names the image it builds"
    for name in AIRFLOW_SERVICES:
        service = services[name]
        env = env_of(service)
        for key in SHARED_SETTINGS:
            assert env.get(key) == common_env[key], f"{name}: {key} differs from x-airflow-common"
        assert service.get("image") == common["image"], f"{name}: not the common image"
        assert service.get("build") == common["build"], f"{name}: not built like the common image"
        assert service.get("volumes") == common["volumes"], f"{name}: not the common mounts"


def test_shared_secrets_come_from_the_env_file_and_are_required(compose):
    env = env_of(compose["x-airflow-common"])
    for key in SECRETS:
        assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", str(env[key])), f"{key} must be a required ${{VAR:?...}}"


def test_seaweedfs_runs_from_the_same_image_and_serves_s3_on_8333(compose, services):
    image = compose["x-airflow-common"]["image"]
    for name in ("seaweedfs", "seaweedfs-init"):
        assert services[name]["image"] == image
    command = services["seaweedfs"]["command"]
    command = command if isinstance(command, list) else command.split()
    assert command[0] == "weed" and "mini" in command
    assert "-s3.port=8333" in command
    assert env_of(compose["x-airflow-common"])["PAPERLAKE_S3_ENDPOINT_URL"] == "http://seaweedfs:8333"


def test_restart_policies_are_valid(services):
    for name, service in services.items():
        restart = str(service.get("restart", "no"))
        assert restart in ("no", "always", "unless-stopped") or re.fullmatch(r"on-failure(:\d+)?", restart), (
            f"{name}: restart {restart!r}"
        )


def test_the_worker_can_be_scaled(services):
    worker = services["airflow-worker"]
    for key in ("container_name", "hostname", "ports"):
        assert key not in worker, f"airflow-worker has {key}: --scale airflow-worker=N would collide"


@pytest.mark.parametrize("name", ["postgres", "redis", "airflow-apiserver", "seaweedfs"])
def test_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable"), f"{name} has no healthcheck"


def test_depends_on_orders_init_before_the_components(services):
    for name in COMPONENTS:
        deps = depends_on(services[name])
        assert deps.get(INIT) == "service_completed_successfully", f"{name} does not wait for {INIT}"
        assert deps.get("postgres") == "service_healthy" and deps.get("redis") == "service_healthy", name
    init_deps = depends_on(services[INIT])
    assert init_deps.get("postgres") == "service_healthy"
    assert init_deps.get("redis") == "service_healthy"
    assert init_deps.get("seaweedfs-init") == "service_completed_successfully"
    assert depends_on(services["seaweedfs-init"]).get("seaweedfs") == "service_healthy"
    for name in (INIT, "seaweedfs-init"):
        assert services[name].get("restart", "no") == "no", f"{name} is one-shot: it must not restart"


def test_depends_on_targets_exist_and_have_what_their_condition_waits_for(services):
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target} healthy: no healthcheck"
    # no cycles: a topological order exists
    remaining = {name: set(depends_on(service)) for name, service in services.items()}
    while remaining:
        ready = [name for name, deps in remaining.items() if not deps & remaining.keys()]
        assert ready, f"depends_on cycle among {sorted(remaining)}"
        for name in ready:
            del remaining[name]


def test_only_8080_and_8333_are_published(services):
    published = {name: host_ports(service) for name, service in services.items() if service.get("ports")}
    assert published == {"airflow-apiserver": {8080}, "seaweedfs": {8333}}


def test_published_ports_bind_to_the_bind_address_variable_defaulting_to_loopback(services):
    for name in ("airflow-apiserver", "seaweedfs"):
        for port in services[name]["ports"]:
            assert str(port).startswith("${PAPERLAKE_BIND_ADDRESS:-127.0.0.1}:"), (
                f"{name} publishes {port!r} on every interface"
            )
    assert env_example()["PAPERLAKE_BIND_ADDRESS"] == "127.0.0.1"


def test_the_auth_manager_is_fab_with_no_development_users(compose, services):
    common = env_of(compose["x-airflow-common"])
    assert common["AIRFLOW__CORE__AUTH_MANAGER"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    assert "SIMPLE_AUTH_MANAGER" not in COMPOSE.read_text().upper().replace("SIMPLE_AUTH_MANAGER_PASSWORDS", "")
    from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager  # the pinned provider has it

    assert common["AIRFLOW__CORE__AUTH_MANAGER"] == f"{FabAuthManager.__module__}.{FabAuthManager.__name__}"


def test_bind_mounts_exist_in_the_repo_and_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    mounted_targets = set()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
            if source.startswith((".", "/")):
                assert (REPO / source).resolve().is_dir(), f"{name} mounts {source}: no such folder in the repo"
                mounted_targets.add((source.rstrip("/"), target))
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
    for folder in ("dags", "plugins", "include"):
        assert (f"./{folder}", f"{APP_DIR}/{folder}") in mounted_targets, f"{folder}/ is not mounted"


def strings_in(node):
    """Every key and value compose interpolates (comments excluded: compose does not read them)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)
    elif isinstance(node, str):
        yield node


def test_every_variable_the_compose_file_reads_is_in_env_example(compose):
    used = {a or b for text in strings_in(compose) for a, b in VARIABLE.findall(text)}
    listed = set(env_example())
    assert used, "the compose file reads no variable at all?"
    assert not used - listed, f"not in .env.example: {sorted(used - listed)}"
    assert not listed - used, f".env.example lists variables the compose file never reads: {sorted(listed - used)}"


def test_env_example_has_only_placeholder_secrets():
    env = env_example()
    for name in ("POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY",
                 "AIRFLOW_ADMIN_PASSWORD", "S3_SECRET_ACCESS_KEY"):
        assert env[name].startswith("change-me"), f"{name} in .env.example must be a change-me placeholder"
    assert ".env" in (REPO / ".gitignore").read_text().split(), ".env holds secrets: keep it out of git"


def test_airflow_init_does_what_the_deployment_needs(services):
    script = "\n".join(services[INIT]["command"])
    for step in ("python -m deploy.auth check", f"cd {APP_DIR}", "python -m deploy.airflow_init --connections --admin"):
        assert step in script, f"airflow-init does not do: {step}"
    assert "airflow db migrate" not in script, "one Airflow initialisation: deploy.airflow_init migrates"


# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_dockerfile_installs_the_pinned_requirements_with_the_makefile_pip():
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = " && ".join(arg for op, arg in steps if op == "RUN")
    makefile_pip = re.search(r"pip install -q (pip==\S+)", (REPO / "Makefile").read_text()).group(1)
    assert f"pip install {makefile_pip}" in runs, f"the image must use {makefile_pip}, like the Makefile"
    assert ("COPY", "requirements.txt ./") in steps
    assert re.search(r"pip install (-\S+ )*-r requirements\.txt", runs)
    assert "pip install --no-deps -e ." in runs
    for op, arg in steps:
        if op == "COPY":
            for source in arg.split()[:-1]:
                assert (REPO / source).exists(), f"COPY {source}: not in the repo"
    workdir = [arg for op, arg in steps if op == "WORKDIR"]
    assert workdir == [APP_DIR]


def test_dockerfile_runs_as_a_non_root_user():
    users = [arg for op, arg in dockerfile_instructions() if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_requirements_carry_the_celery_and_postgres_extras():
    pins = {
        line.split("==")[0].lower() for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line
    }
    wanted = {"apache-airflow-providers-celery", "apache-airflow-providers-postgres", "psycopg2-binary", "asyncpg"}
    if not pins & wanted:
        pytest.skip("requirements.txt does not pin the Celery/Postgres extras yet (another branch adds them)")
    assert wanted <= pins, f"CeleryExecutor on Postgres also needs: {sorted(wanted - pins)}"
    assert {"apache-airflow-providers-fab", "flask-appbuilder"} <= pins, "the FAB auth manager is not pinned"


# --- external validators -------------------------------------------------------------------------


def compose_cli(*args: str, env_file: str) -> subprocess.CompletedProcess:
    binary = require_tool("docker-compose")
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [binary, "--project-directory", str(REPO), "--env-file", env_file, "-f", str(COMPOSE), *args],
        env=clean_env, capture_output=True, text=True, timeout=120,
    )


def test_docker_compose_config_accepts_the_file():
    result = compose_cli("config", "-q", env_file=str(ENV_EXAMPLE))
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(compose_cli("config", env_file=str(ENV_EXAMPLE)).stdout)
    assert SERVICES <= set(resolved["services"])
    assert env_of(resolved["services"]["airflow-worker"])["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_docker_compose_config_refuses_missing_secrets(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_cli("config", "-q", env_file=str(empty))
    assert result.returncode != 0
    assert "set " in result.stderr and " in .env" in result.stderr, result.stderr


def test_compose_spec_json_schema():
    binary = require_tool("check-jsonschema")
    result = subprocess.run(
        [binary, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the embedded init scripts, run for real -----------------------------------------------------


def container_script(service: dict) -> str:
    """The script as the container gets it: compose turns $$ into $; the repo stands in for /opt/paperlake/app."""
    return service["command"][-1].replace("$$", "$").replace(APP_DIR, str(REPO))


def test_airflow_init_script_runs_against_a_fresh_metadata_db(compose, services, tmp_path):
    from cryptography.fernet import Fernet

    home = tmp_path / "airflow"
    home.mkdir()
    scratch = tmp_path / "tmp"  # the init's own temporary files: none may hold a secret afterwards
    scratch.mkdir()
    env = {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "TMPDIR": str(scratch),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": env_of(compose["x-airflow-common"])["AIRFLOW__CORE__AUTH_MANAGER"],
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": "jwt-secret-for-the-test",
        "AIRFLOW__API__SECRET_KEY": "api-secret-for-the-test",
        "POSTGRES_PASSWORD": "postgres-password-for-the-test",
        "AWS_ACCESS_KEY_ID": "paperlake",
        "AWS_SECRET_ACCESS_KEY": "s3-secret-for-the-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PAPERLAKE_S3_ENDPOINT_URL": "http://seaweedfs:8333",
        "AIRFLOW_ADMIN_PASSWORD": "admin-password-for-the-test",
        "SMTP_HOST": "smtp.example.com",
        "SMTP_PORT": "587",
        "SMTP_USER": "",
        "SMTP_PASSWORD": "",
        "SMTP_DISABLE_SSL": "true",
        "SMTP_DISABLE_TLS": "false",
    }
    script = container_script(services[INIT])

    for name, weak in (("AIRFLOW_ADMIN_PASSWORD", "change-me-admin"), ("AIRFLOW_ADMIN_PASSWORD", "admin"),
                       ("POSTGRES_PASSWORD", "airflow"), ("AWS_SECRET_ACCESS_KEY", "secret123")):
        refused = subprocess.run(
            ["bash", "-c", script], env={**env, name: weak}, capture_output=True, text=True, timeout=60
        )
        assert refused.returncode != 0 and f"refused: {name}" in refused.stderr, (name, refused.stderr)
        assert not (tmp_path / "airflow.db").exists(), "weak passwords must be refused before anything is written"

    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "FAB user admin (role Admin): created" in result.stdout
    left = [
        p
        for p in [*home.rglob("*"), *scratch.rglob("*")]
        if p.is_file() and "s3-secret-for-the-test" in p.read_text(errors="replace")
    ]
    assert not left, f"files holding the S3 secret are left behind: {left}"

    check = """
import json
from airflow.models import Connection, Pool
from airflow.utils.session import create_session
with create_session() as s:
    out = {c.conn_id: [c.conn_type, c.host, c.port, c.login, c.password, c.extra_dejson]
           for c in s.query(Connection).filter(Connection.conn_id.in_(["aws_default", "smtp_default"]))}
    out["pools"] = {p.pool: p.slots for p in s.query(Pool)}
from airflow.providers.fab.auth_manager.models import User
from werkzeug.security import check_password_hash
with create_session() as s:
    admin = s.query(User).filter(User.username == "admin").one()
    out["admin"] = [[r.name for r in admin.roles], check_password_hash(admin.password, "admin-password-for-the-test")]
print("RESULT" + json.dumps(out))
"""
    probe = subprocess.run(
        [str(VENV_BIN / "python"), "-c", check], env=env, capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    stored = json.loads(probe.stdout.split("RESULT", 1)[1])
    assert stored["aws_default"] == ["aws", None, None, "paperlake", "s3-secret-for-the-test",
                                     {"endpoint_url": "http://seaweedfs:8333", "region_name": "us-east-1"}]
    assert stored["smtp_default"] == ["smtp", "smtp.example.com", 587, None, None,
                                      {"disable_ssl": True, "disable_tls": False}]
    pools = json.loads((REPO / "include/paperlake_airflow/pools.json").read_text())
    assert {name: spec["slots"] for name, spec in pools.items()}.items() <= stored["pools"].items()
    assert stored["admin"] == [["Admin"], True]

    # A rerun (every `docker compose up` runs airflow-init) keeps the user and sets the password from .env.
    again = subprocess.run(["bash", "-c", script], env={**env, "AIRFLOW_ADMIN_PASSWORD": "a-new-admin-password-2"},
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "FAB user admin (role Admin): password set" in again.stdout, again.stderr[-3000:]


def test_seaweedfs_init_script_creates_the_lake_bucket_once(services, seaweed):
    from tests.support.seaweed import ACCESS_KEY, SECRET_KEY

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "PAPERLAKE_S3_ENDPOINT_URL": seaweed.endpoint_url,
        "PAPERLAKE_LAKE_URL": f"s3://compose-init-{os.getpid()}/lake",
    }
    script = container_script(services["seaweedfs-init"])
    weak = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "AWS_SECRET_ACCESS_KEY": "change-me-s3-secret-key"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert weak.returncode != 0 and "S3_SECRET_ACCESS_KEY refused" in weak.stderr, weak.stderr
    for expected in ("created bucket", "exists"):
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0 and expected in result.stdout, result.stdout + result.stderr
    seaweed.client().head_bucket(Bucket=f"compose-init-{os.getpid()}")
    wrong = subprocess.run([sys.executable, "-c", script], env={**env, "AWS_SECRET_ACCESS_KEY": "not-the-right-key-9"},
                           cwd=REPO, capture_output=True, text=True, timeout=180)
    assert wrong.returncode != 0 and "SignatureDoesNotMatch" in wrong.stderr
