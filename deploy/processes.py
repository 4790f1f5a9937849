"""Start processes in their own session and stop them by PID: SIGTERM (or the given signal), a bounded
wait, then SIGKILL to the whole process group so no child outlives its parent."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1


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


def stop(refs: list[ProcessRef], timeout: float | list[float] = 30, signals: list[int] | None = None) -> list[int]:
    """Send each leader its signal (default SIGTERM); SIGKILL the group of each one still there after its
    timeout, and every group once its leader is gone (no orphaned child survives). Returns the PIDs that
    had to be killed. Each ref leads its own process group (see `spawn`)."""
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
    for ref, _ in live:
        _signal_group(ref.pid, signal.SIGKILL)  # children left in the group (uvicorn, celery, executor forks)
    return killed


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
