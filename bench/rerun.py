"""A rerun of an ingested partition, whose tag stage the content-hash cache serves, against the cold tag stage.

    python -m bench.rerun HOME PAGE RESULT    # the step itself: fetch, clean, validate, then the timed tag stage

The cold side is the tag stage of the partition's first ingest (bench.ingest), run just before in a
fresh process too; both include building the tagger. Goal: the cached rerun takes at most a tenth.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.ingest import DAY
from bench.processes import run_step
from bench.report import Figure
from paperlake.config import Settings
from paperlake.pipeline import fetch_stage, parse_stage, tag_stage, validate_stage


def measure(ingested: dict) -> tuple[list[Figure], dict]:
    """Rerun the partition `ingested` (a bench.ingest run) in a fresh process; its tag stage against the ingest's."""
    folder = Path(ingested["home"]).parent
    run = run_step("bench.rerun", [ingested["home"], ingested["page"]], folder / "rerun.log")
    cold = ingested["stages"]["tag"]
    print(
        f"  tag stage of {ingested['papers']:,} papers: cold {cold:.1f} s, rerun from the cache {run['seconds']:.2f} s"
    )
    figure = Figure("tag_cached_over_cold", f"tag stage, cached rerun / cold, {ingested['papers']:,} papers",
                    round(run["seconds"] / cold, 3), "x", 0.1)
    return [figure], run | {"cold_seconds": cold}


def main(home: str, page: str, result: str) -> None:
    settings = Settings.from_env({"PAPERLAKE_HOME": home, "PAPERLAKE_SNAPSHOT_PATH": page})
    run_id = fetch_stage(settings, "snapshot", DAY).run_id
    parse_stage(settings, "snapshot", DAY, run_id)
    validate_stage(settings, "snapshot", DAY, run_id)
    started = time.perf_counter()
    tagged = tag_stage(settings, "snapshot", DAY, run_id)
    seconds = time.perf_counter() - started
    Path(result).write_text(json.dumps({"seconds": round(seconds, 3), "counts": tagged.counts}))


if __name__ == "__main__":
    main(*sys.argv[1:])
