"""Debian's postgresql and redis-server when missing; the PostgreSQL cluster, as an unprivileged user under root."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from deploy.stack.config import OS_USER, write_private

log = logging.getLogger("paperlake.stack")


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def ensure_packages() -> None:
    """Install Debian's postgresql and redis-server when their binaries are missing (root only)."""
    missing = [
        pkg for pkg, binary in (("postgresql", "initdb"), ("redis-server", "redis-server")) if not find_binary(binary)
    ]
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
            raise SystemExit(
                f"{parent} is not searchable by the `{user}` user PostgreSQL runs as; chmod o+x it "
                "or set PAPERLAKE_HOME elsewhere"
            )


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
            [find_binary("initdb"), "-D", str(data), "-U", "airflow", "--auth=scram-sha-256", f"--pwfile={pwfile}",
             "-E", "UTF8"],
            check=True,
            user=user,
            stdout=subprocess.DEVNULL,
            cwd="/",
        )
    finally:
        pwfile.unlink(missing_ok=True)
