"""`paperlake sql` and `paperlake shell` against a bare read-only DuckDB connection: the same point query on the
same marts file, a fresh interpreter each (what a user pays per query), the sides back to back, best of several.

The bare side is `duckdb.connect(path, read_only=True)` and one `execute` + `fetchall`; the CLI adds its
argument parsing, settings, the read-only check (one parse-tree query, no bound parameter: binding one
imports pandas) and its confinement. Goal: at most 1.2x the bare time.

paperlake's own modules are compiled to bytecode first, as `pip install` leaves an installed package (and
DuckDB's): with PYTHONDONTWRITEBYTECODE set and an editable install, every CLI run would otherwise compile
its sources again (measured: ~0.17 s, 1.5x), a cost of that setup rather than of the query path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

from bench.processes import REPO
from bench.report import Figure, best_times
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
    sides = {
        "paperlake sql": partial(run, [sys.executable, "-m", "paperlake.cli", "sql", query], env),
        "bare duckdb": partial(run, [sys.executable, "-c", BARE, str(marts), query], env),
        "paperlake shell": partial(run, [sys.executable, "-m", "paperlake.cli", "shell"], env, f"{query};\n"),
    }
    best = best_times(repeats, sides)
    cpu = best_times(repeats, sides, clock=children_cpu_seconds)
    print(f"  point query, fresh process: paperlake sql {best['paperlake sql']:.3f} s ({cpu['paperlake sql']:.3f} s CPU), "
          f"bare read-only DuckDB {best['bare duckdb']:.3f} s ({cpu['bare duckdb']:.3f} s CPU), best of {repeats}", flush=True)
    shell = best["paperlake shell"]
    print(f"  the same through `paperlake shell` (its statement on stdin): {shell:.3f} s ({cpu['paperlake shell']:.3f} s CPU)", flush=True)
    figures = [
        Figure("sql_point_query_ratio", "paperlake sql point query / bare read-only DuckDB (fresh process)",
               round(best["paperlake sql"] / best["bare duckdb"], 2), "x", 1.2),
        Figure("sql_point_query_cpu_ratio", "the same in CPU time (not inflated by a busy machine)",
               round(cpu["paperlake sql"] / cpu["bare duckdb"], 2), "x"),
        Figure("shell_point_query_ratio", "paperlake shell point query / bare read-only DuckDB (fresh process)",
               round(shell / best["bare duckdb"], 2), "x", 1.2),
    ]
    return figures, {"query": query, "best_seconds": best, "best_cpu_seconds": cpu}


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished children."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
