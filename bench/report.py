"""Figures beside their goals, the machine they were measured on, and the results file."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

GOAL_CHECKS = {"<": float.__lt__, "<=": float.__le__, ">=": float.__ge__}


@dataclass(frozen=True)
class Figure:
    """One measured figure; `goal` None means it is shown for context (e.g. the machine's ceiling), not judged."""

    key: str
    name: str
    value: float
    unit: str = ""
    goal: float | None = None
    op: str = "<="

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else GOAL_CHECKS[self.op](float(self.value), float(self.goal))

    def line(self) -> str:
        verdict = "" if self.met is None else ("met" if self.met else "NOT met")
        goal = "" if self.goal is None else f"goal {self.op} {self.goal:g}"
        return f"{self.name:<66} {self.value:>9g} {self.unit:<7} {goal:<12} {verdict}"

    def to_dict(self) -> dict:
        return asdict(self) | {"met": self.met}


def best_times(repeats: int, sides: dict, clock=time.perf_counter) -> dict[str, float]:
    """The shortest time of each side (name -> callable) over `repeats` rounds, the sides back to back in each round.

    `clock` is wall time by default; time.process_time gives this process's CPU time, which a busy machine does not
    inflate.
    """
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, side in sides.items():
            started = clock()
            side()
            times[name].append(clock() - started)
    return {name: min(values) for name, values in times.items()}


def machine() -> dict:
    """Cores, CPU model, RAM and the load average when the run started: what the figures depend on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "unknown"
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def write_results(
    path: Path, figures: list[Figure], details: dict, host: dict, started: float, quick: bool, measures: tuple[str, ...]
) -> None:
    """Every figure, the details each measurement gathered, the machine and what ran, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seconds = time.perf_counter() - started
    results = {
        "quick": quick, "measures": list(measures), "seconds": round(seconds),
        "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() - seconds)),
        "machine": host, "load_average_at_end": round(os.getloadavg()[0], 2),
        "figures": [figure.to_dict() for figure in figures], "details": details,
    }
    path.write_text(json.dumps(results, indent=2) + "\n")
