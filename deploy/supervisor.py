"""One supervisor for every way paperlake runs Airflow as separate processes.

A plan is a list of steps run in order: a *service* is started and waited for (a TCP port, an HTTP
200, a line in its log, or simply staying up; consecutive services start together), a *task* runs
once and must exit 0. Once every step is
done the supervisor watches: a service that exits is logged with its exit code, whatever it left behind
in its session is stopped (SIGTERM, then SIGKILL after a bounded wait), and it is restarted (with a growing
delay). SIGTERM or SIGINT stops every service with its whole session, later stages first, then exits.

`python -m deploy.supervisor PLAN.json` runs a plan written by `deploy.stack`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.processes import LEFTOVER_GRACE, ProcessRef, port_open, spawn, stop, stop_leftovers

log = logging.getLogger("paperlake.supervisor")
RESTART_DELAY_MAX = 60.0
# A service that stayed up this long is healthy again: its next crash restarts it quickly.
HEALTHY_UPTIME = 120.0


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    stage: int = 1  # stopped in reverse stage order, one stage at a time, its services together
    user: str | None = None
    cwd: str | None = None
    stop_signal: str = "SIGTERM"
    stop_timeout: float = 30.0
    ready: dict | None = None  # {"tcp": port} | {"http": url} | {"log": text}; None: up for 2 s
    ready_timeout: float = 120.0
    # The services after this one start only once it is ready (the scheduler must not hand a task to an
    # executor before the API server that tasks report to answers).
    ready_before_next: bool = False


@dataclass
class Task:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 600.0


@dataclass
class Plan:
    name: str
    state_dir: Path
    env: dict[str, str]
    steps: list[Service | Task]

    @property
    def state_file(self) -> Path:
        return self.state_dir / "supervisor.json"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def to_json(self) -> str:
        steps = [{"service" if isinstance(s, Service) else "task": s.__dict__} for s in self.steps]
        return json.dumps(
            {"name": self.name, "state_dir": str(self.state_dir), "env": self.env, "steps": steps}, indent=1
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        steps = [Service(**s["service"]) if "service" in s else Task(**s["task"]) for s in data["steps"]]
        return cls(data["name"], Path(data["state_dir"]), data["env"], steps)


def read_state(state_file: Path) -> dict | None:
    try:
        return json.loads(state_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


class StartupFailed(RuntimeError):
    pass


@dataclass
class Running:
    service: Service
    process: subprocess.Popen
    ref: ProcessRef
    started: float
    log_offset: int
    restarts: int = 0
    restart_at: float | None = None


class Supervisor:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.running: dict[str, Running] = {}
        self.phase = "starting"
        self.stop_requested = False

    # --- state, visible to `deploy.stack status/stop` and the tests ---
    def write_state(self) -> None:
        me = ProcessRef.of(os.getpid())
        state = {
            "plan": self.plan.name, "phase": self.phase, "pid": me.pid, "create_time": me.create_time,
            "services": {
                name: {**r.ref.to_dict(), "restarts": r.restarts, "stage": r.service.stage,
                       "log": str(self.log_path(r.service))}
                for name, r in self.running.items()
            },
        }
        tmp = self.plan.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.plan.state_file)

    def log_path(self, step: Service | Task) -> Path:
        return self.plan.log_dir / f"{step.name}.log"

    def _request_stop(self, signum, _frame) -> None:
        if not self.stop_requested:
            log.info("%s received: stopping every service", signal.Signals(signum).name)
        self.stop_requested = True

    # --- steps ---
    def _start(self, service: Service, restarts: int = 0) -> None:
        path = self.log_path(service)
        offset = path.stat().st_size if path.exists() else 0
        process = spawn(
            service.argv,
            {**self.plan.env, **service.env},
            path,
            cwd=service.cwd,
            user=service.user,
            die_with_parent=True,
        )
        self.running[service.name] = Running(
            service, process, ProcessRef.of(process.pid), time.monotonic(), offset, restarts
        )
        self.write_state()
        log.info("started %s (pid %d)%s", service.name, process.pid, f", restart #{restarts}" if restarts else "")

    def _is_ready(self, r: Running) -> bool:
        probe = r.service.ready or {}
        if "tcp" in probe:
            return port_open(int(probe["tcp"]))
        if "http" in probe:
            try:
                with urllib.request.urlopen(probe["http"], timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False
        if "log" in probe:
            with open(self.log_path(r.service), "rb") as f:
                f.seek(r.log_offset)
                return probe["log"].encode() in f.read()
        return time.monotonic() - r.started > 2

    def _wait_ready(self, service: Service) -> None:
        r = self.running[service.name]
        deadline = time.monotonic() + service.ready_timeout
        while True:
            # Exited first: a port can answer for someone else, and "up for 2 s" must mean up now.
            if r.process.poll() is not None:
                raise StartupFailed(
                    f"{service.name} exited with code {r.process.returncode} while "
                    f"starting; see {self.log_path(service)}"
                )
            if self._is_ready(r):
                break
            if self.stop_requested:
                return
            if time.monotonic() > deadline:
                raise StartupFailed(
                    f"{service.name} not ready after {service.ready_timeout:.0f}s; see {self.log_path(service)}"
                )
            time.sleep(0.3)
        log.info("%s is ready", service.name)

    def _run_task(self, task: Task) -> None:
        log.info("running %s", task.name)
        process = spawn(task.argv, {**self.plan.env, **task.env}, self.log_path(task), die_with_parent=True)
        ref = ProcessRef.of(process.pid)
        deadline = time.monotonic() + task.timeout
        while process.poll() is None:
            if self.stop_requested or time.monotonic() > deadline:
                stop([ref], timeout=10)
                process.wait()
                if not self.stop_requested:
                    raise StartupFailed(f"{task.name} did not finish in {task.timeout:.0f}s; see {self.log_path(task)}")
                return
            time.sleep(0.2)
        self._stop_leftovers(task.name, ref)
        if process.returncode != 0:
            tail = self.log_path(task).read_text(errors="replace")[-3000:]
            raise StartupFailed(
                f"{task.name} failed with exit code {process.returncode}; see {self.log_path(task)}:\n{tail}"
            )

    # --- the watch loop ---
    def _watch_once(self) -> None:
        now = time.monotonic()
        for name, r in list(self.running.items()):
            if r.restart_at is not None:
                if now >= r.restart_at:
                    self._start(r.service, r.restarts + 1)
                continue
            code = r.process.poll()
            if code is None:
                continue
            restarts = 0 if now - r.started > HEALTHY_UPTIME else r.restarts
            delay = min(2.0 ** restarts, RESTART_DELAY_MAX)
            log.warning("%s (pid %d) exited with code %s; restarting in %.0fs (see %s)",
                        name, r.ref.pid, code, delay, self.log_path(r.service))
            self._stop_leftovers(name, r.ref)  # before the restart: a dead scheduler's executor workers must go
            r.restarts, r.restart_at = restarts, time.monotonic() + delay

    @staticmethod
    def _stop_leftovers(name: str, ref: ProcessRef) -> None:
        """Whatever the exited `name` left in its session (its children, now orphans): SIGTERM, then SIGKILL."""
        left, killed = stop_leftovers([ref])
        if left:
            log.warning("%s (pid %d) left %d process(es) behind: stopped%s", name, ref.pid, left,
                        f", {killed} killed after {LEFTOVER_GRACE:.0f}s" if killed else "")

    def stop_all(self) -> None:
        self.phase = "stopping"
        self.write_state()
        for stage in sorted({r.service.stage for r in self.running.values()}, reverse=True):
            group = [r for r in self.running.values() if r.service.stage == stage and r.restart_at is None]
            if not group:
                continue
            log.info("stopping %s", ", ".join(r.service.name for r in group))
            killed = stop(
                [r.ref for r in group], timeout=[r.service.stop_timeout for r in group],
                signals=[signal.Signals[r.service.stop_signal] for r in group],
            )
            for r in group:
                r.process.poll()  # reap
                if r.ref.pid in killed:
                    log.warning("%s (pid %d) did not stop in time: killed", r.service.name, r.ref.pid)
        self.phase = "stopped"
        self.write_state()
        log.info("%s: every service stopped", self.plan.name)

    def _batches(self) -> list[Task | list[Service]]:
        """Consecutive services form one batch, started at once and then waited for; a task stands alone, and
        a service that must be ready before the next ones ends its batch."""
        batches: list[Task | list[Service]] = []
        for step in self.plan.steps:
            if isinstance(step, Task):
                batches.append(step)
            elif batches and isinstance(batches[-1], list) and not batches[-1][-1].ready_before_next:
                batches[-1].append(step)
            else:
                batches.append([step])
        return batches

    def run(self, on_ready=None) -> int:
        """Run the plan until SIGTERM/SIGINT; 0 after a clean stop, 1 if startup failed."""
        self.plan.log_dir.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        self.write_state()
        code = 0
        try:
            for batch in self._batches():
                if self.stop_requested:
                    break
                if isinstance(batch, Task):
                    self._run_task(batch)
                    continue
                for service in batch:  # started together (2 cores: their imports overlap with waits)
                    self._start(service)
                for service in batch:
                    self._wait_ready(service)
            if not self.stop_requested:
                self.phase = "running"
                self.write_state()
                log.info("%s: every service is up", self.plan.name)
                if on_ready:
                    on_ready()
            while not self.stop_requested:
                self._watch_once()
                time.sleep(0.5)
        except StartupFailed as err:
            log.error("%s", err)
            self.phase, code = "failed", 1
            self.write_state()
        finally:
            failed = self.phase == "failed"
            self.stop_all()
            if failed:
                self.phase = "failed"
                self.write_state()
        return code


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stdout)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: list[str]) -> int:
    configure_logging()
    plan = Plan.from_json(Path(argv[0]).read_text())
    return Supervisor(plan).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
