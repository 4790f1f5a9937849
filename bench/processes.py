"""Run one bench step in a fresh interpreter, and sample the memory of its process tree while it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.2


def tree_pss_kb(pid: int) -> int:
    """Proportional set size of a process and all its descendants (forked workers count their share of shared pages)."""
    import psutil

    try:
        pids = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in pids:
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # it ended between the listing and the read
        total += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return total


def written_mb() -> int | None:
    """Megabytes this process caused to be written to disk so far (the marts file, the exports and any spill); None off
    Linux."""
    try:
        io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    except OSError:
        return None
    return round(int(io["write_bytes"]) / 2**20)


def run_step(module: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run `python -m module *args RESULT` from the repository root; return the JSON it wrote to RESULT and its tree's
    peak PSS.

    The step's output goes to `log`; a failed step raises with the log's tail.
    """
    result = log.with_suffix(".json")
    peak_kb = 0
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args, str(result)],
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=out,
        )
        while process.poll() is None:
            peak_kb = max(peak_kb, tree_pss_kb(process.pid))
            time.sleep(SAMPLE_SECONDS)
    if process.returncode:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise RuntimeError(
            f"bench step {module} {' '.join(args)} failed with exit code {process.returncode}; end of {log}:\n{tail}"
        )
    return json.loads(result.read_text()) | {"peak_pss_mb": round(peak_kb / 1024)}
