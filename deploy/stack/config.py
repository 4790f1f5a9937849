"""The stack's fixed names and paths, and the ports and secrets kept between starts (stack.json)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy import seaweed
from deploy.auth import ADMIN, weakness
from deploy.processes import free_ports, port_free

REPO = Path(__file__).resolve().parents[2]
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
NOT_PASSED_ON = (
    "AIRFLOW",
    "AWS_",
    "PAPERLAKE_HOME",
    "PAPERLAKE_LAKE_URL",
    "PAPERLAKE_S3_",
    "PYTHONPATH",
    ADMIN_PASSWORD_VARIABLE,
)

log = logging.getLogger("paperlake.stack")


def paperlake_home() -> Path:
    return Path(os.environ.get("PAPERLAKE_HOME", REPO / ".paperlake")).resolve()


def stack_dir() -> Path:
    return paperlake_home() / "stack"


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
