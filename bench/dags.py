"""DAG file parse time: each `dags/*.py` against an empty DAG with the same Airflow imports, each in a fresh
interpreter.

A parse is timed inside the interpreter, from before the file's first import to its last line (as
the DAG processor pays it for a fresh file), best of several, the file and its baseline back to
back. The ratio is of CPU seconds, which a busy machine does not inflate; wall seconds are shown
beside them. Goal: at most 2x the empty DAG.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from bench.processes import REPO
from bench.report import Figure

TIMED_PARSE = (
    "import importlib.util, sys, time\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "spec = importlib.util.spec_from_file_location('bench_dag_file', sys.argv[1])\n"
    "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
    "print(time.perf_counter() - wall, time.process_time() - cpu)\n"
)


def empty_dag_source(dag_file: Path) -> str:
    """An empty DAG file that makes the same Airflow imports as `dag_file`."""
    tree = ast.parse(dag_file.read_text())
    imports = [
        ast.unparse(node) for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airflow"
        or isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "airflow" for alias in node.names)
    ]
    return "\n".join(
        [*imports, "import airflow.sdk", "", "", "@airflow.sdk.dag(dag_id='bench_empty', schedule=None)",
         "def bench_empty():", "    pass", "", "", "bench_empty()", ""]
    )


def parse_seconds(path: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds to import and run the DAG file at `path` in a fresh interpreter."""
    output = subprocess.run(
        [sys.executable, "-c", TIMED_PARSE, str(path)], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    wall, cpu = output.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def measure(work: Path, repeats: int) -> tuple[list[Figure], dict]:
    """Every DAG file of the repository against its empty twin."""
    # Airflow writes its default configuration on first import: a throwaway home, warmed once.
    env = {**os.environ, "AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    figures, details = [], {}
    for dag_file in sorted((REPO / "dags").glob("*.py")):
        empty = work / f"empty_{dag_file.name}"
        empty.write_text(empty_dag_source(dag_file))
        if not details:
            parse_seconds(empty, env)
        rounds = [(parse_seconds(dag_file, env), parse_seconds(empty, env)) for _ in range(repeats)]
        file_wall, file_cpu = (min(times) for times in zip(*(r[0] for r in rounds)))
        empty_wall, empty_cpu = (min(times) for times in zip(*(r[1] for r in rounds)))
        details[dag_file.name] = {
            "wall_seconds": round(file_wall, 3),
            "cpu_seconds": round(file_cpu, 3),
            "empty_dag_wall_seconds": round(empty_wall, 3),
            "empty_dag_cpu_seconds": round(empty_cpu, 3),
        }
        print(f"  parse dags/{dag_file.name}: {file_cpu:.2f} s CPU ({file_wall:.2f} s wall); "
              f"an empty DAG with its Airflow imports {empty_cpu:.2f} s CPU ({empty_wall:.2f} s wall)")
        figures.append(
            Figure(
                f"dag_parse_{dag_file.stem}",
                f"parse dags/{dag_file.name} / an empty DAG, CPU, fresh interpreter",
                round(file_cpu / empty_cpu, 2),
                "x",
                2.0,
            )
        )
    return figures, details
