"""The one Airflow initialisation every way of running paperlake calls: `make run`, the tests, `make airflow`,
`make stack` and docker-compose's airflow-init. Rerunning it is safe: each step is idempotent.

    python -m deploy.airflow_init                        # `airflow db migrate` and the pools
    python -m deploy.airflow_init --connections          # + aws_default and smtp_default, from the environment
    python -m deploy.airflow_init --connections --admin  # + the FAB user admin with $AIRFLOW_ADMIN_PASSWORD
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from deploy.auth import ensure_admin, weak_variables

REPO = Path(__file__).resolve().parents[1]
POOLS = REPO / "include/paperlake_airflow/pools.json"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
# What `connections_from_env` cannot do without (the SMTP_* variables have defaults).
CONNECTION_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PAPERLAKE_S3_ENDPOINT_URL")


def _flag(env: dict, name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def connections_from_env(env: dict) -> dict:
    """aws_default (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, PAPERLAKE_S3_ENDPOINT_URL, AWS_DEFAULT_REGION) and
    smtp_default (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_DISABLE_SSL, SMTP_DISABLE_TLS, SMTP_TIMEOUT)."""
    smtp_extra = {"disable_ssl": _flag(env, "SMTP_DISABLE_SSL"), "disable_tls": _flag(env, "SMTP_DISABLE_TLS")}
    if env.get("SMTP_TIMEOUT"):
        smtp_extra["timeout"] = int(env["SMTP_TIMEOUT"])
    return {
        "aws_default": {
            "conn_type": "aws",
            "login": env["AWS_ACCESS_KEY_ID"],
            "password": env["AWS_SECRET_ACCESS_KEY"],
            "extra": json.dumps(
                {
                    "endpoint_url": env["PAPERLAKE_S3_ENDPOINT_URL"],
                    "region_name": env.get("AWS_DEFAULT_REGION", "us-east-1"),
                }
            ),
        },
        "smtp_default": {
            "conn_type": "smtp",
            "host": env.get("SMTP_HOST", "localhost"),
            "port": int(env.get("SMTP_PORT", "25")),
            "login": env.get("SMTP_USER") or None,
            "password": env.get("SMTP_PASSWORD") or None,
            "extra": json.dumps(smtp_extra),
        },
    }


class InitError(Exception):
    """A step of the initialisation failed; its message is the one line to print."""


def _airflow(*command: str) -> None:
    print("airflow", *command, flush=True)
    if subprocess.run([AIRFLOW, *command]).returncode:
        raise InitError(f"`airflow {' '.join(command)}` failed (its output is above)")


def store_connections(connections: dict) -> None:
    """Create or replace each connection in the metadata database (encrypted with the fernet key), in this
    process: no file with the secrets is ever written."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        for conn_id, fields in connections.items():
            session.query(Connection).filter(Connection.conn_id == conn_id).delete()
            session.add(Connection(conn_id=conn_id, **fields))
    print("connections stored:", ", ".join(connections), flush=True)


def initialise(connections: dict | None = None, admin_password: str | None = None) -> None:
    """Migrate the metadata database (the FAB tables too), import the pools, then store the `connections` and
    create the FAB admin with `admin_password`, when given."""
    _airflow("db", "migrate")
    _airflow("pools", "import", str(POOLS))
    if connections:
        store_connections(connections)
    if admin_password is not None:
        ensure_admin(admin_password)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.airflow_init", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--connections", action="store_true", help="store aws_default and smtp_default from the environment"
    )
    parser.add_argument(
        "--admin",
        action="store_true",
        help="create the FAB user admin, or reset its password, to $AIRFLOW_ADMIN_PASSWORD",
    )
    args = parser.parse_args(argv)
    if args.admin and (refused := weak_variables(["AIRFLOW_ADMIN_PASSWORD"])):
        print(f"refused: {refused[0]}", file=sys.stderr)
        return 1
    missing = [name for name in CONNECTION_VARIABLES if args.connections and not os.environ.get(name)]
    if missing:
        print(f"airflow_init: --connections needs {', '.join(missing)} in the environment", file=sys.stderr)
        return 1
    try:
        initialise(connections_from_env(os.environ) if args.connections else None,
                   os.environ["AIRFLOW_ADMIN_PASSWORD"] if args.admin else None)
    except InitError as err:
        print(f"airflow_init: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
