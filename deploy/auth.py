"""Auth of the production deployments (`make stack`, docker-compose.yaml): the FAB auth manager, its admin
user, and the password rule both deployments apply before they start anything.

    python -m deploy.auth check POSTGRES_PASSWORD AIRFLOW_ADMIN_PASSWORD   # exit 1 naming each weak one
"""

from __future__ import annotations

import os
import sys

# The auth manager Airflow documents for production: users, roles and permissions in the metadata database.
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
ADMIN = "admin"
MIN_LENGTH = 12
# Placeholders and the passwords a scanner tries first (compared case-insensitively, separators ignored).
COMMON = {
    "admin", "administrator", "airflow", "changeme", "password", "passw0rd", "paperlake", "postgres", "root",
    "secret", "letmein", "qwerty", "welcome", "default", "minioadmin", "seaweedfs",
}


def weakness(password: str, user: str | None = None) -> str | None:
    """Why `password` is refused (too short, a placeholder or common word, the user's name, one repeated
    character, a single character class), or None when it passes."""
    plain = "".join(ch for ch in password.lower() if ch.isalnum())
    if "change-me" in password.lower() or "changeme" in plain:
        return "still the change-me placeholder from .env.example"
    if len(password) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    if plain.rstrip("0123456789") in COMMON or (user and user.lower() in password.lower()):
        return "a common password or the user's own name"
    if len(set(password)) < 4:
        return "fewer than 4 different characters"
    classes = sum(
        any(test(ch) for ch in password) for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if classes < 2:
        return "only one kind of character (mix letters with digits, capitals or symbols)"
    return None


def weak_variables(names: list[str]) -> list[str]:
    """`NAME: reason` for each environment variable of `names` that `weakness` refuses (unset counts as empty)."""
    return [f"{name}: {reason}" for name in names if (reason := weakness(os.environ.get(name, "")))]


def ensure_admin(password: str) -> None:
    """The FAB user `admin` with the Admin role and `password`: created, or its password reset."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    @providers_configuration_loaded
    def apply() -> None:
        with get_application_builder() as appbuilder:
            manager = appbuilder.sm
            user = manager.find_user(username=ADMIN)
            if user is None:
                done = manager.add_user(
                    ADMIN, "paperlake", "admin", "admin@localhost", manager.find_role("Admin"), password
                )
            else:
                done = manager.reset_password(user.id, password)
            if not done:
                raise SystemExit(f"could not {'create' if user is None else 'update'} the FAB user {ADMIN}")
            print(f"FAB user {ADMIN} (role Admin): {'created' if user is None else 'password set'}", flush=True)

    apply()


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"] and argv[1:]:
        refused = weak_variables(argv[1:])
        for line in refused:
            print(f"refused: {line}", file=sys.stderr)
        return 1 if refused else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
