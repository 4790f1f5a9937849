"""Faults as an operator meets them, through the `paperlake` command in its own process: bad upstream
data, kill -9 mid-run, the S3 server dying mid-commit, and two concurrent runs with different content.

After each, a reader sees one whole committed run (the previous or the new one), and a rerun
gives exactly what a clean run gives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from paperlake.commit import committed_run, current_commit
from paperlake.config import Settings
from paperlake.lake import Lake
from tests.conftest import VENV_BIN
from tests.support.recorded_http import arxiv_answer, serve
from tests.support.seaweed import SeaweedServer
from tests.support.snapshots import write_snapshot

pytestmark = pytest.mark.faults
DAY = "2026-11-26"
LAYERS = ("parsed", "clean", "quarantine", "entities")


def cli_env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PAPERLAKE_"))}
    return env | {"PAPERLAKE_HOME": str(home), "PAPERLAKE_SOURCES": "snapshot,arxiv"} | extra


def paperlake(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "paperlake"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def ingest_args(source: str = "snapshot") -> tuple[str, ...]:
    return ("ingest", "--source", source, "--date", DAY)


def lake_of(env: dict) -> Lake:
    return Lake.from_settings(Settings.from_env(env))


def partition_state(lake: Lake, source: str = "snapshot") -> dict:
    """Everything a reader sees of the committed partition, as comparable values (run ids aside)."""
    day = date.fromisoformat(DAY)
    tables = {
        layer: lake.read_table(layer, source, day, run_id=committed_run(lake, source, day)).to_pylist()
        for layer in LAYERS
    }
    return tables | {"raw": [page.body for page in lake.read_raw(source, day, committed_run(lake, source, day))]}


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The failure's message: exit status not 0, one `paperlake:` line, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paperlake: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def marts_papers(env: dict) -> int:
    assert paperlake(env, "marts").returncode == 0
    result = paperlake(env, "sql", "SELECT count(*) AS n FROM papers", "--format", "csv")
    assert result.returncode == 0, result.stderr
    return int(result.stdout.splitlines()[1])


def test_an_empty_page_from_upstream_fails_clearly_and_the_good_day_stays(tmp_path):
    good = cli_env(tmp_path / "home", PAPERLAKE_SNAPSHOT_PATH=str(write_snapshot(tmp_path / "good.txt", papers=30)))
    assert paperlake(good, *ingest_args()).returncode == 0
    before = partition_state(lake_of(good))
    (tmp_path / "empty.txt").write_bytes(b"")
    message = one_line_error(paperlake(good | {"PAPERLAKE_SNAPSHOT_PATH": str(tmp_path / "empty.txt")}, *ingest_args()))
    assert "with 0 clean rows" in message and "--allow-shrink" in message
    assert partition_state(lake_of(good)) == before and marts_papers(good) == 30


def test_an_arxiv_answer_that_is_not_an_atom_feed_fails_clearly_and_the_good_day_stays(tmp_path, httpserver):
    script = serve(httpserver, "/api/query", arxiv_answer)
    env = cli_env(
        tmp_path / "home", PAPERLAKE_ARXIV_API_URL=httpserver.url_for("/api/query"), PAPERLAKE_ARXIV_MIN_INTERVAL="0"
    )
    assert paperlake(env, *ingest_args("arxiv")).returncode == 0
    before = partition_state(lake_of(env), "arxiv")
    script.answer = lambda request, n: (200, b'<?xml version="1.0"?><html><body>maintenance</body></html>', {})
    message = one_line_error(paperlake(env, *ingest_args("arxiv")))
    assert "arxiv 2026-11-26" in message and "Atom" in message and httpserver.url_for("/api/query") in message
    assert partition_state(lake_of(env), "arxiv") == before and marts_papers(env) == 3


def test_kill_9_at_any_moment_of_a_run_leaves_one_whole_run_and_a_rerun_equals_a_clean_run(tmp_path):
    old = write_snapshot(tmp_path / "old.txt", papers=40)
    new = write_snapshot(tmp_path / "new.txt", papers=40, revision=" Revised.")
    clean_run = cli_env(tmp_path / "reference", PAPERLAKE_SNAPSHOT_PATH=str(new))
    started = time.monotonic()
    assert paperlake(clean_run, *ingest_args()).returncode == 0
    duration = time.monotonic() - started
    expected_new = partition_state(lake_of(clean_run))

    env = cli_env(tmp_path / "home", PAPERLAKE_SNAPSHOT_PATH=str(old))
    assert paperlake(env, *ingest_args()).returncode == 0
    expected_old = partition_state(lake_of(env))
    env["PAPERLAKE_SNAPSHOT_PATH"] = str(new)
    outcomes = []
    for share in (0.2, 0.45, 0.7, 0.9):
        process = subprocess.Popen(
            [str(VENV_BIN / "paperlake"), *ingest_args()], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(duration * share)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        state = partition_state(lake_of(env))
        assert state in (expected_old, expected_new)  # one whole run, never a mix
        outcomes.append(state == expected_new)
        if state == expected_new:  # the killed run got to commit: start again from the old content
            env["PAPERLAKE_SNAPSHOT_PATH"] = str(old)
            assert paperlake(env, *ingest_args()).returncode == 0
            env["PAPERLAKE_SNAPSHOT_PATH"] = str(new)
    assert not all(outcomes), "every kill came after the commit: the kills tested nothing"
    assert paperlake(env, *ingest_args()).returncode == 0
    assert partition_state(lake_of(env)) == expected_new


def test_two_concurrent_runs_with_different_content_never_mix(tmp_path):
    env = cli_env(tmp_path / "home", PAPERLAKE_SNAPSHOT_PATH=str(write_snapshot(tmp_path / "base.txt", papers=30)))
    assert paperlake(env, *ingest_args()).returncode == 0
    versions = {
        name: write_snapshot(tmp_path / f"{name}.txt", papers=30, revision=f" Version {name}.") for name in "AB"
    }
    for trial in range(2):
        processes = {
            name: subprocess.Popen(
                [str(VENV_BIN / "paperlake"), *ingest_args()],
                env=env | {"PAPERLAKE_SNAPSHOT_PATH": str(path)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, path in versions.items()
        }
        results = {name: (p.wait(timeout=300), p.stderr.read()) for name, p in processes.items()}
        winners = [name for name, (code, _) in results.items() if code == 0]
        assert winners, results
        for name, (code, stderr) in results.items():
            if code:
                assert (
                    stderr.strip().startswith("paperlake: snapshot 2026-11-26: run ") and "not committed" in stderr
                ), stderr
        state = partition_state(lake_of(env))
        committed = [name for name, path in versions.items() if state["raw"] == [path.read_bytes()]]
        assert len(committed) == 1 and committed[0] in winners, (trial, winners)
        assert all(
            row["abstract"].endswith(f"Version {committed[0]}.")
            for layer in ("clean", "parsed")
            for row in state[layer]
        )
        assert {row["content_hash"] for row in state["entities"]} <= {row["content_hash"] for row in state["clean"]}


def test_the_s3_server_dying_mid_run_leaves_the_committed_run_and_a_rerun_after_restart_succeeds(tmp_path):
    server = SeaweedServer(tmp_path / "seaweed")
    server.start()
    try:
        server.client().create_bucket(Bucket="faults")
        old = write_snapshot(tmp_path / "old.txt", papers=30)
        new = write_snapshot(tmp_path / "new.txt", papers=30, revision=" Revised.")
        env = cli_env(
            tmp_path / "home", **server.env, PAPERLAKE_LAKE_URL="s3://faults/lake", PAPERLAKE_SNAPSHOT_PATH=str(old)
        )
        assert paperlake(env, *ingest_args()).returncode == 0
        expected_old = partition_state(lake_of(env))
        env["PAPERLAKE_SNAPSHOT_PATH"] = str(new)
        process = subprocess.Popen(
            [str(VENV_BIN / "paperlake"), *ingest_args()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lake = lake_of(env)
        deadline = time.monotonic() + 120
        while len(lake.store.list("clean/source=snapshot")) < 2:  # the new run has written its clean table
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        server.stop()
        process.wait(timeout=300)
        message = one_line_error(
            subprocess.CompletedProcess(process.args, process.returncode, process.stdout.read(), process.stderr.read())
        )
        assert server.endpoint_url.split("//")[1] in message or "s3://faults/lake" in message
        server.start()
        assert partition_state(lake_of(env)) == expected_old
        assert paperlake(env, *ingest_args()).returncode == 0
        assert current_commit(lake.store, "snapshot", date.fromisoformat(DAY)).generation == 2
        assert all(row["abstract"].endswith("Revised.") for row in partition_state(lake_of(env))["clean"])
    finally:
        server.stop()
