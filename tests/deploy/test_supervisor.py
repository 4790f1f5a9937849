"""The supervisor on plain processes: a service that exits is logged and restarted, and the orphan it left
(a child ignoring SIGTERM, as Airflow's LocalExecutor workers do) is stopped first; SIGTERM stops every
service with its session, one that ignores SIGTERM is killed after its timeout, and nothing of the tree
survives the scenario."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from deploy.airflow_api import wait_until
from deploy.processes import LEFTOVER_GRACE, ProcessRef
from deploy.supervisor import Plan, Service, Task, read_state
from tests.conftest import REPO
from tests.deploy.support import kill_leftovers, scenario_mark

pytestmark = pytest.mark.deploy
SLEEPER = "import time\nwhile True: time.sleep(1)"
# Ignores SIGTERM and keeps a grandchild in its process group: only SIGKILL to the group ends both.
STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print('up', flush=True)\n"
    "while True: time.sleep(1)"
)
# A child that ignores SIGTERM and, once its parent is SIGKILLed, lives on with parent 1.
DEAF_CHILD = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(1)"


def run_supervisor(plan: Plan, out: Path) -> subprocess.Popen:
    """`python -m deploy.supervisor` on `plan` (written into its state folder), its output appended to `out`."""
    plan.state_dir.mkdir(exist_ok=True)
    (plan.state_dir / "plan.json").write_text(plan.to_json())
    return subprocess.Popen([sys.executable, "-m", "deploy.supervisor", str(plan.state_dir / "plan.json")],
                            cwd=REPO, stdout=open(out, "ab"), stderr=subprocess.STDOUT)


def alive(pid: int) -> bool:
    return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE


def test_restart_on_exit_and_stop_by_pid_with_sigkill_after_the_timeout(tmp_path):
    marker = tmp_path / "crashed-once"
    crash_once = (
        f"import os, subprocess, sys, time\nif not os.path.exists({str(marker)!r}):\n"
        f"    open({str(marker)!r}, 'w').close(); sys.exit(3)\n"
        f"subprocess.Popen([sys.executable, '-c', {DEAF_CHILD!r}])\nwhile True: time.sleep(1)"
    )
    mark = scenario_mark()
    plan = Plan("unit", tmp_path / "state", {"PATH": "/usr/bin:/bin", **mark}, [
        Task("prepare", [sys.executable, "-c", "print('prepared')"], timeout=30),
        Service("steady", [sys.executable, "-c", SLEEPER], stage=0),
        Service("crashy", [sys.executable, "-c", crash_once], stage=1, ready=None),
        Service("stubborn", [sys.executable, "-c", STUBBORN], stage=1, ready={"log": "up"}, stop_timeout=2),
    ])
    out = tmp_path / "supervisor.out"
    process = run_supervisor(plan, out)
    try:
        # crashy exits 3 before it is "ready" (2 s up): startup fails, everything started is stopped.
        assert process.wait(timeout=60) == 1
        assert "crashy exited with code 3 while starting" in out.read_text()
        assert read_state(plan.state_file)["phase"] == "failed"
        assert not any(ProcessRef.from_dict(s).alive() for s in read_state(plan.state_file)["services"].values())
        assert not kill_leftovers(plan.env)

        # Second start: crashy now stays up with a SIGTERM-deaf child; SIGKILL crashy (as the OOM killer would):
        # its orphan is stopped (SIGKILL after the grace), then crashy is restarted.
        process = run_supervisor(plan, out)
        wait_until(lambda: read_state(plan.state_file)["phase"] == "running", 60, "the plan running")
        first = read_state(plan.state_file)["services"]["crashy"]
        orphan = wait_until(lambda: psutil.Process(first["pid"]).children(), 30, "crashy's child")[0].pid
        os.kill(first["pid"], signal.SIGKILL)
        wait_until(lambda: psutil.Process(orphan).ppid() != first["pid"], 10, "the child orphaned")
        wait_until(
            lambda: read_state(plan.state_file)["services"]["crashy"]["restarts"] == 1,
            LEFTOVER_GRACE + 30,
            "crashy restarted",
        )
        assert not alive(orphan), "the crashed service's orphan survived its restart"
        text = out.read_text()
        assert f"crashy (pid {first['pid']}) exited with code -9" in text
        assert (
            f"crashy (pid {first['pid']}) left 1 process(es) behind: stopped, 1 killed after {LEFTOVER_GRACE:.0f}s"
            in text
        )
        services = read_state(plan.state_file)["services"]
        stubborn = services["stubborn"]
        grandchildren = [p.pid for p in psutil.Process(stubborn["pid"]).children()]
        assert grandchildren

        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert time.monotonic() - began < 30
        text = out.read_text()
        assert "stubborn (pid %d) did not stop in time: killed" % stubborn["pid"] in text
        assert text.index("stopping crashy, stubborn") < text.index("stopping steady")  # later stage first
        assert not any(ProcessRef.from_dict(s).alive() for s in read_state(plan.state_file)["services"].values())
        assert not any(alive(pid) for pid in grandchildren)
        assert not kill_leftovers(plan.env)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for service in (read_state(plan.state_file) or {"services": {}})["services"].values():
            if ProcessRef.from_dict(service).alive():
                os.killpg(service["pid"], signal.SIGKILL)
        kill_leftovers(plan.env, settle=0)


def test_a_service_ready_before_next_starts_the_next_ones_only_once_it_is_ready(tmp_path):
    gate = "import time\ntime.sleep(3)\nprint('up', flush=True)\nwhile True: time.sleep(1)"
    mark = scenario_mark()
    plan = Plan("order", tmp_path / "state", {"PATH": "/usr/bin:/bin", **mark}, [
        Service("gate", [sys.executable, "-c", gate], ready={"log": "up"}, ready_before_next=True),
        Service("follower", [sys.executable, "-c", SLEEPER]),
        Service("sibling", [sys.executable, "-c", SLEEPER]),
    ])
    out = tmp_path / "supervisor.out"
    process = run_supervisor(plan, out)
    try:
        wait_until(lambda: read_state(plan.state_file)["phase"] == "running", 60, "the plan running")
        text = out.read_text()
        assert text.index("gate is ready") < text.index("started follower") < text.index("started sibling")
        assert text.index("started sibling") < text.index("follower is ready")  # the two after it start together
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert not kill_leftovers(plan.env)
    finally:
        if process.poll() is None:
            process.kill()
        kill_leftovers(plan.env, settle=0)
