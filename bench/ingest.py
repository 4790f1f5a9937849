"""Ingest (fetch + clean + validate + tag + commit) of one snapshot partition at two sizes, each in a fresh process.

    python -m bench.ingest HOME PAGE RESULT    # the step itself: one `paperlake.pipeline.ingest` into HOME

The wall time should grow linearly with the partition (goal: at most 1.1x the size ratio) and the
peak PSS of the process tree (forked tagging workers included) should stay flat (goal: at most 1.2x).
CPU seconds (the process and its workers) are shown beside the wall time, which a busy machine inflates.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from datetime import date
from pathlib import Path

from bench.corpus import Paper, write_snapshot_page
from bench.processes import run_step
from bench.report import Figure
from paperlake.config import Settings
from paperlake.pipeline import ingest

DAY = date(2026, 11, 26)


def partition_run(work: Path, papers: list[Paper]) -> dict:
    """Ingest `papers` as one partition into a fresh lake under `work`; wall time, stage seconds and peak PSS."""
    folder = work / f"ingest-{len(papers)}"
    folder.mkdir()
    page = write_snapshot_page(folder / "page.txt", papers)
    run = run_step("bench.ingest", [str(folder / "home"), str(page)], folder / "ingest.log")
    return run | {"papers": len(papers), "home": str(folder / "home"), "page": str(page)}


def measure(work: Path, papers: list[Paper], sizes: tuple[int, int]) -> tuple[list[Figure], dict[int, dict]]:
    """Both sizes back to back, the larger first (so the smaller one's lake is the freshest for the cached rerun)."""
    small, large = sizes
    runs = {n: partition_run(work, papers[:n]) for n in (large, small)}
    for n in sizes:
        run = runs[n]
        stages = " ".join(f"{name} {seconds:.1f}" for name, seconds in run["stages"].items())
        print(
            f"  ingest {n:>6,} papers: {run['seconds']:7.1f} s ({run['cpu_seconds']:.0f} s CPU, process tree), peak "
            f"PSS {run['peak_pss_mb']:,} MB, "
            f"{run['clean_rows']:,} clean rows; stages (s): {stages}"
        )
    growth = large / small
    return [
        Figure("ingest_time_ratio", f"ingest wall time, {large:,} / {small:,} papers (x{growth:g} data)",
               round(runs[large]["seconds"] / runs[small]["seconds"], 2), "x", round(growth * 1.1, 2)),
        Figure("ingest_cpu_ratio", f"ingest CPU time (process tree), {large:,} / {small:,} papers",
               round(runs[large]["cpu_seconds"] / runs[small]["cpu_seconds"], 2), "x"),
        Figure("ingest_pss_ratio", f"ingest peak PSS (process tree), {large:,} / {small:,} papers",
               round(runs[large]["peak_pss_mb"] / runs[small]["peak_pss_mb"], 2), "x", 1.2),
    ], runs


class StageTimes(logging.Handler):
    """Seconds per stage, from the first to the last record each `logged_stage` writes (its start and its summary)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.spans: dict[str, list[float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("%s %s %s: ") and record.args:
            self.spans.setdefault(str(record.args[0]), []).append(record.created)

    def seconds(self) -> dict[str, float]:
        return {name: round(times[-1] - times[0], 2) for name, times in self.spans.items()}


def main(home: str, page: str, result: str) -> None:
    logging.basicConfig(format="%(asctime)s %(name)s %(message)s")  # into the step's log
    stages = StageTimes()
    logger = logging.getLogger("paperlake")
    logger.setLevel(logging.INFO)
    logger.addHandler(stages)
    settings = Settings.from_env({"PAPERLAKE_HOME": home, "PAPERLAKE_SNAPSHOT_PATH": page})
    started = time.perf_counter()
    summaries = ingest(settings, "snapshot", DAY)
    seconds = time.perf_counter() - started
    validated = next(s for s in summaries[:-1] if s.layer == "clean")  # the last is the commit
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    Path(result).write_text(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 1),
                "stages": stages.seconds(),
                "clean_rows": validated.rows,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
