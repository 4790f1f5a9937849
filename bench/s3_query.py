"""`paperlake sql` on an S3 lake against a local lake: the marts of the bundled sample, a fresh CLI process per query.

Both lakes are built the same way (the sample ingested, the marts built) and the same query runs
through the CLI, the two sides back to back, best of several. The S3 side is a real SeaweedFS
(`weed mini` on 127.0.0.1); its local copy of the marts is the file the build uploaded, so opening
the marts costs one HEAD request until another build publishes. Goal: at most 2x the local time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.processes import REPO
from bench.report import Figure
from deploy.seaweed import SeaweedServer, wait_until_ready

BUCKET = "bench"
QUERY = "SELECT label, count(*) AS entities FROM entity_counts GROUP BY label ORDER BY label"
SAMPLE_DATE = "2026-11-26"


def cli(env: dict[str, str], *args: str) -> float:
    """Wall seconds of one `paperlake` command in a fresh interpreter (it must succeed)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "paperlake.cli", *args], cwd=REPO, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(work: Path, repeats: int) -> tuple[list[Figure], dict]:
    """Build the sample's marts on a local and on an S3 lake, then time the same query on each."""
    base = {**os.environ, "PAPERLAKE_SOURCES": "snapshot"}
    base.pop("PAPERLAKE_LAKE_URL", None)
    server = SeaweedServer(work / "seaweed")
    server.start()
    try:
        wait_until_ready(server.client(), 30, bucket=BUCKET)
        lakes = {
            "local": base | {"PAPERLAKE_HOME": str(work / "s3q-local")},
            "s3": base | server.env | {"PAPERLAKE_HOME": str(work / "s3q-s3"), "PAPERLAKE_LAKE_URL": f"s3://{BUCKET}/lake"},
        }
        for env in lakes.values():
            cli(env, "ingest", "--source", "snapshot", "--date", SAMPLE_DATE)
            cli(env, "marts")
        first_s3 = cli(lakes["s3"], "sql", QUERY)
        seconds = {name: [] for name in lakes}
        for _ in range(repeats):
            for name, env in lakes.items():
                seconds[name].append(cli(env, "sql", QUERY))
    finally:
        server.stop()
    best = {name: min(values) for name, values in seconds.items()}
    ratio = best["s3"] / best["local"]
    print(f"  paperlake sql, fresh process: local lake {best['local']:.2f} s, S3 lake {best['s3']:.2f} s "
          f"(its first query {first_s3:.2f} s), best of {repeats}", flush=True)
    return [
        Figure(
            "s3_query_ratio",
            "paperlake sql on an S3 lake / a local lake (fresh process each)",
            round(ratio, 2),
            "x",
            2.0,
        )
    ], {
        "query": QUERY,
        "best_seconds": best,
        "first_s3_seconds": first_s3,
        "seconds": seconds,
    }
