"""What both deploy tests share: arXiv answers per day, the stack's env file, lake and marts reads."""

from __future__ import annotations

import contextlib
import re
import shlex
import time
import uuid
from datetime import date
from pathlib import Path

import duckdb
import psutil

from deploy.processes import describe, marked_processes
from paperlake.commit import committed_run
from paperlake.config import Settings
from paperlake.lake import Lake
from paperlake.marts.published import local_marts_path
from tests.support.recorded_http import fixture

LAYERS = ("parsed", "clean", "quarantine", "entities")
UI_CONF = {"reparse": False, "allow_shrink": False}  # the form sends the DAG's params with their defaults
RECORDED_DAY = "2026-11-26"
# Every process a scenario starts inherits this variable (whatever its session): what is left is found by it.
SCENARIO_VARIABLE = "PAPERLAKE_TEST_SCENARIO"


def scenario_mark() -> dict[str, str]:
    """The environment entry that marks one scenario's processes."""
    return {SCENARIO_VARIABLE: uuid.uuid4().hex}


def kill_leftovers(env: dict[str, str], settle: float = 5) -> str:
    """Wait up to `settle` seconds for the processes of the scenario marked in `env` to be gone, SIGKILL any
    still there, and return their listing ('' when nothing of the scenario was left)."""
    deadline = time.monotonic() + settle
    while (left := marked_processes(env[SCENARIO_VARIABLE], SCENARIO_VARIABLE)) and time.monotonic() < deadline:
        time.sleep(0.5)
    listing = describe(left)
    for process in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    return listing


def arxiv_day_answer(request, n: int):
    """The recorded pages, moved to the day the query asks for, with that day's own paper ids."""
    match = re.search(r"submittedDate:\[(\d{4})(\d{2})(\d{2})", request.args["search_query"])
    day = date(int(match[1]), int(match[2]), int(match[3]))
    if request.args["max_results"] == "1" or request.args["start"] == "0":
        body = fixture("arxiv/page1.xml")
    else:
        body = fixture("arxiv/page2.xml")
    text = body.decode()
    text = text.replace(RECORDED_DAY, day.isoformat()).replace(RECORDED_DAY.replace("-", ""), day.strftime("%Y%m%d"))
    text = text.replace("2611.01234", f"2611.{day.day:02d}234").replace("2611.05678", f"2611.{day.day:02d}678")
    text = text.replace("hep-th/9901001", f"hep-th/99011{day.day:02d}")
    return 200, text.encode(), {"Content-Type": "application/atom+xml"}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


def layer_tables(lake: Lake, source: str, days: list[date]) -> dict:
    return {
        (layer, day): lake.read_table(layer, source, day, run_id=committed_run(lake, source, day))
        for layer in LAYERS
        for day in days
    }


def marts_dates(lake: Lake, settings: Settings, source: str) -> set[date]:
    """The dates the published marts report for `source` (pipeline_health), read from the file as published."""
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        rows = con.execute(
            "SELECT date, clean FROM pipeline_health WHERE source = ? AND clean > 0", [source]
        ).fetchall()
    return {row[0] for row in rows}
