"""`paperlake sql` and `paperlake shell` against a bare read-only DuckDB connection: the same point query on the
same marts file, a fresh interpreter each (what a user pays per query), the three sides back to back in every round,
the median of several rounds (wall and CPU time of the same runs).

The bare side is `duckdb.connect(path, read_only=True)` and one `execute` + `fetchall`; the CLI adds its
argument parsing, settings, the read-only check (one parse-tree query, no bound parameter: binding one
imports pandas) and its confinement. Goal: at most 1.2x the bare time.

paperlake's own modules are compiled to bytecode first, as `pip install` leaves an installed package (and
DuckDB's): with PYTHONDONTWRITEBYTECODE set and an editable install, every CLI run would otherwise compile
its sources again (measured: ~0.17 s, 1.5x), a cost of that setup rather than of the query path.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from statistics import median

from bench.processes import REPO
from bench.report import Figure
from bench.s3_query import SAMPLE_DATE, cli

BARE = "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True).execute(sys.argv[2]).fetchall())"


def run(command: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, input=stdin, text=True)


def measure(work: Path, repeats: int) -> tuple[list[Figure], dict]:
    """Build the sample's marts on a local lake, then time one point query through the CLI and through bare DuckDB."""
    env = {**os.environ, "PAPERLAKE_SOURCES": "snapshot", "PAPERLAKE_HOME": str(work / "sql-point")}
    env.pop("PAPERLAKE_LAKE_URL", None)
    cli(env, "ingest", "--source", "snapshot", "--date", SAMPLE_DATE)
    cli(env, "marts")
    run([sys.executable, "-m", "compileall", "-q", str(REPO / "include" / "paperlake")], env)
    marts = work / "sql-point" / "lake" / "marts" / "paperlake.duckdb"
    found = subprocess.run([sys.executable, "-c", BARE, str(marts), "SELECT min(paper_id) FROM papers"], env=env,
                           check=True, capture_output=True, text=True)
    paper_id = found.stdout.split("'")[1]
    query = f"SELECT paper_id, title FROM papers WHERE paper_id = '{paper_id}'"
    paperlake = str(Path(sys.executable).parent / "paperlake")  # the console script a user runs
    sides = {
        "paperlake sql": partial(run, [paperlake, "sql", query], env),
        "bare duckdb": partial(run, [sys.executable, "-c", BARE, str(marts), query], env),
        "paperlake shell": partial(run, [paperlake, "shell"], env, f"{query};\n"),
    }
    wall, cpu = interleaved_medians(repeats, sides)
    bare = wall["bare duckdb"]
    for side in sides:
        print(
            f"  {side:<16} {wall[side]:.3f} s ({cpu[side]:.3f} s CPU), {wall[side] / bare:.2f}x bare (goal <= 1.2x)",
            flush=True,
        )
    print(
        f"  point query in a fresh process, median of {repeats} rounds, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    figures = [
        Figure("sql_point_query_ratio", "paperlake sql point query / bare read-only DuckDB (fresh process)",
               round(wall["paperlake sql"] / bare, 2), "x", 1.2),
        Figure("sql_point_query_cpu_ratio", "the same in CPU time (not inflated by a busy machine)",
               round(cpu["paperlake sql"] / cpu["bare duckdb"], 2), "x"),
        Figure("shell_point_query_ratio", "paperlake shell point query / bare read-only DuckDB (fresh process)",
               round(wall["paperlake shell"] / bare, 2), "x", 1.2),
        Figure("shell_point_query_cpu_ratio", "the same in CPU time",
               round(cpu["paperlake shell"] / cpu["bare duckdb"], 2), "x"),
    ]
    return figures, {"query": query, "median_seconds": wall, "median_cpu_seconds": cpu, "rounds": repeats}


def interleaved_medians(repeats: int, sides: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU seconds of each side (name -> callable running one child process) over `repeats` rounds,
    the sides back to back in each round, so a change in the machine's load falls on all of them alike."""
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, side in sides.items():
            started, cpu_started = time.perf_counter(), children_cpu_seconds()
            side()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(children_cpu_seconds() - cpu_started)
    return {name: median(values) for name, values in wall.items()}, {
        name: median(values) for name, values in cpu.items()
    }


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
