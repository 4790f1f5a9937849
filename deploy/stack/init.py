"""The one-shot init task the stack runs once its infrastructure is up."""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

from deploy import airflow_init, seaweed
from deploy.auth import ensure_admin
from deploy.stack.config import BUCKET, StackConfig, stack_dir


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
    con = psycopg2.connect(
        host="127.0.0.1", port=config.postgres_port, user="airflow", password=config.db_password, dbname="postgres"
    )
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'airflow'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE airflow")
    con.close()
    client = seaweed.s3_client(config.s3_endpoint, config.s3_access_key, config.s3_secret_key)
    seaweed.wait_until_ready(client, timeout=60, bucket=BUCKET)
    (state / "connections.json").unlink(missing_ok=True)  # stacks started before kept the S3 secret in it
    airflow_init.initialise(airflow_init.connections_from_env(connection_env(config)))
    check_shared_secrets(Path(os.environ["AIRFLOW_HOME"]) / "airflow.cfg")
    ensure_admin(config.admin_password)


def check_shared_secrets(cfg_path: Path) -> None:
    """Separately started components must share these, or tasks fail to authenticate or decrypt."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(cfg_path)
    for section, key in (("core", "fernet_key"), ("api", "secret_key"), ("api_auth", "jwt_secret")):
        if not cfg.get(section, key, fallback="").strip():
            raise SystemExit(f"{cfg_path}: [{section}] {key} is empty; the components would not share it")
