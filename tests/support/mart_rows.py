"""Every marts table's rows as plain JSON values, sorted: what a lake builds, to compare with what it built before
(`tests/fixtures/lake_before_parsed/marts.json`).

`python -m tests.support.mart_rows LAKE_FOLDER OUT.json` builds the marts on a temp copy of the lake folder and writes
them.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from paperlake.config import Settings
from paperlake.delta import migrate_lake
from paperlake.lake import Lake
from paperlake.marts.published import local_marts_path
from paperlake.pipeline import marts_stage


def mart_rows(settings: Settings) -> dict[str, list[dict]]:
    """table -> its rows (column -> value; dates, maps and timestamps as strings), in a fixed order."""
    with duckdb.connect(str(local_marts_path(Lake.from_settings(settings), settings)), read_only=True) as con:
        names = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()
        tables = {}
        for (name,) in names:
            cursor = con.execute(f"SELECT * FROM {name}")
            columns = [d[0] for d in cursor.description]
            rows = json.loads(json.dumps([dict(zip(columns, row)) for row in cursor.fetchall()], default=str))
            tables[name] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))
    return tables


def built_mart_rows(lake_folder: Path, home: Path) -> dict[str, list[dict]]:
    """The marts rows of a copy of `lake_folder` made in `home` (migrated first: it may be of an older layout)."""
    shutil.copytree(lake_folder, home / "lake")
    settings = Settings.from_env({"PAPERLAKE_HOME": str(home)})
    migrate_lake(Lake.from_settings(settings), settings.run_retention)
    marts_stage(settings)
    return mart_rows(settings)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as home:
        rows = built_mart_rows(Path(sys.argv[1]), Path(home))
    Path(sys.argv[2]).write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
