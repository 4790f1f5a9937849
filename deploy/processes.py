"""Start processes in their own session and stop the whole session: the leader gets SIGTERM (or its own
signal) and a bounded wait, then whatever is left of its session (children, orphans re-parented to init
once the leader died) gets SIGTERM, a bounded wait, and SIGKILL, so no child outlives its component.

`python -m deploy.processes leftovers` lists, kills and fails on the live processes that inherited
`$LEFTOVER_MARK` from the caller's environment: what CI runs when it ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1
# What is left of a session once its leader is gone gets this long between SIGTERM and SIGKILL (Airflow's
# LocalExecutor workers inherit the scheduler's SIGTERM handler and never exit on SIGTERM alone).
LEFTOVER_GRACE = 10.0
# An environment variable every descendant inherits, whatever its session or process group.
MARK_VARIABLE = "LEFTOVER_MARK"


@dataclass(frozen=True)
class ProcessRef:
    """A PID plus its start time, so a recycled PID is never mistaken for ours."""

    pid: int
    create_time: float

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        return cls(pid, psutil.Process(pid).create_time())

    @classmethod
    def from_dict(cls, data: dict) -> ProcessRef:
        return cls(int(data["pid"]), float(data["create_time"]))

    def to_dict(self) -> dict:
        return asdict(self)

    def alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return abs(process.create_time() - self.create_time) < 0.01 and process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the parent (the supervisor) dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def spawn(
    argv: list[str], env: dict[str, str], log_path: Path, cwd: Path | None = None, user: str | None = None,
    die_with_parent: bool = False,
) -> subprocess.Popen:
    """Start `argv` in a new session (its own process group), output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, user=user, preexec_fn=_die_with_parent if die_with_parent else None,
        )


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _live(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def session_members(ref: ProcessRef) -> list[psutil.Process]:
    """The live processes of the session `ref` leads (see `spawn`): the leader, every descendant in any
    process group, and orphans re-parented to init after the leader died. Only processes started after the
    leader count, so a recycled PID that leads a new session of its own is never taken for it."""
    members = []
    for process in psutil.process_iter(["create_time"]):
        try:
            if (
                os.getsid(process.pid) == ref.pid
                and process.info["create_time"] >= ref.create_time - 0.01
                and _live(process)
            ):
                members.append(process)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            continue
    return members


def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of `processes` still alive (not gone, not a zombie) after up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if _live(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if _live(p)]
    return alive


def stop_leftovers(refs: list[ProcessRef], grace: float = LEFTOVER_GRACE) -> tuple[int, int]:
    """SIGTERM every process left in the sessions of `refs`, SIGKILL those still there after `grace` seconds.
    Returns (how many were left, how many had to be killed)."""
    members = [p for ref in refs for p in session_members(ref)]
    for process in members:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    stubborn = _wait_gone(members, grace)
    for process in stubborn:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    _wait_gone(stubborn, 10)  # SIGKILL is not refused; a process in D state takes its time
    return len(members), len(stubborn)


def stop(refs: list[ProcessRef], timeout: float | list[float] = 30, signals: list[int] | None = None) -> list[int]:
    """Send each leader its signal (default SIGTERM) and SIGKILL the group of each one still there after its
    timeout; then stop what is left of every session (`stop_leftovers`), leaders already gone included.
    Returns the leader PIDs that had to be killed. Each ref leads its own session (see `spawn`)."""
    timeouts = timeout if isinstance(timeout, list) else [timeout] * len(refs)
    signals = signals or [signal.SIGTERM] * len(refs)
    started = time.monotonic()
    live = [(ref, started + t) for ref, t, sig in zip(refs, timeouts, signals) if ref.alive() and _send(ref.pid, sig)]
    killed = []
    give_up = max((deadline for _, deadline in live), default=started) + 10  # SIGKILL is not refused; D state is
    while any(ref.alive() for ref, _ in live) and time.monotonic() < give_up:
        for ref, deadline in live:
            if ref.pid not in killed and time.monotonic() > deadline and ref.alive():
                killed.append(ref.pid)
                _signal_group(ref.pid, signal.SIGKILL)
        time.sleep(0.1)
    stop_leftovers(refs)
    return killed


def marked_processes(mark: str, name: str = MARK_VARIABLE) -> list[psutil.Process]:
    """Live processes whose environment has `name`=`mark`: everything started below whoever set it, in
    whatever session, minus this process and its ancestors."""
    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid not in mine and _live(process) and process.environ().get(name) == mark:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _send(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def free_ports(count: int) -> list[int]:
    """Ports the kernel reports free on 127.0.0.1 right now (held open together so they are distinct)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def describe(processes: list[psutil.Process]) -> str:
    """One line per process: pid, parent and command line."""
    lines = []
    for process in processes:
        try:
            lines.append(f"  pid {process.pid} (parent {process.ppid()}): {' '.join(process.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            continue
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """`leftovers`: list and SIGKILL every live process that inherited this environment's $LEFTOVER_MARK,
    exit 1 if there was any."""
    if argv != ["leftovers"] or not os.environ.get(MARK_VARIABLE):
        print(f"usage: {MARK_VARIABLE}=<mark set before the run> python -m deploy.processes leftovers", file=sys.stderr)
        return 2
    left = marked_processes(os.environ[MARK_VARIABLE])
    if left:
        print(
            f"{len(left)} process(es) started under {MARK_VARIABLE}={os.environ[MARK_VARIABLE]} still running "
            f"(killed now):\n{describe(left)}",
            file=sys.stderr,
        )
        for process in left:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        return 1
    print(f"no process started under {MARK_VARIABLE}={os.environ[MARK_VARIABLE]} is left")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
