"""The deployments' password rule: what it refuses, its command (the compose init containers run it), and
`make stack` refusing a weak admin password before it installs, writes or starts anything."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from deploy.auth import weakness
from deploy.stack.config import StackConfig
from tests.conftest import REPO


@pytest.mark.parametrize("password", [
    "", "admin", "airflow", "change-me-admin-password", "CHANGEME-please-now", "short-1A", "Password12345",
    "paperlake2026", "aaaaaaaaaaaaaaaa", "abababababababab", "onlylowercaseletters", "123456789012345",
    "my-admin-is-great",  # contains the user's name
])
def test_weak_passwords_are_refused_with_a_reason(password):
    assert weakness(password, user="admin")


@pytest.mark.parametrize("password", [
    secrets.token_urlsafe(18), secrets.token_hex(32), "correct-horse-battery-staple-9", "Tr0ub4dor&3xyz",
])
def test_strong_passwords_pass(password):
    assert weakness(password, user="admin") is None


def test_generated_stack_passwords_pass():
    for _ in range(200):
        config = StackConfig(1, 2, 3, {})
        assert config.weak_passwords() == []


def test_the_command_names_every_weak_variable():
    env = {
        "PATH": os.environ["PATH"],
        "GOOD": secrets.token_hex(32),
        "PLACEHOLDER": "change-me-s3-secret-key",
        "SHORT": "abc",
    }
    result = subprocess.run([sys.executable, "-m", "deploy.auth", "check", "GOOD", "PLACEHOLDER", "SHORT", "MISSING"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    refused = [line.split(":")[1].strip() for line in result.stderr.splitlines()]
    assert refused == ["PLACEHOLDER", "SHORT", "MISSING"], result.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "deploy.auth", "check", "GOOD"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and not ok.stderr


def test_make_stack_refuses_a_weak_admin_password_before_starting_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_", "PAPERLAKE_"))}
    env |= {"PAPERLAKE_HOME": str(tmp_path), "PAPERLAKE_STACK_ADMIN_PASSWORD": "admin123"}
    result = subprocess.run(
        [sys.executable, "-m", "deploy.stack", "start"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "refusing to start the stack with a weak password" in result.stderr and "admin password" in result.stderr
    state = tmp_path / "stack"
    assert sorted(p.name for p in state.iterdir()) == ["stack.json"], "nothing but the saved ports may exist"
    assert json.loads((state / "stack.json").read_text())["admin_password"] != "admin123", (
        "the weak password is not kept"
    )
