"""A lake written before the parse stage's layer was renamed (`staged/` -> `parsed/`): refused until `paperlake
migrate` moves it, on a local folder and on S3 (SeaweedFS); once moved it reads and builds the marts as before."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from paperlake.config import S3Options, Settings
from paperlake.delta import LakeNotMigrated, migrate_lake, move_renamed_layers
from paperlake.lake import Lake
from paperlake.lake_views import connect_lake_views
from paperlake.pipeline import ingest, marts_stage
from tests.support.mart_rows import mart_rows
from tests.support.snapshots import write_snapshot

FIXTURE = Path(__file__).parents[1] / "fixtures" / "lake_before_parsed"
RETENTION = timedelta(days=7)
DAY = date(2026, 11, 26)


def fixture_files() -> dict[str, bytes]:
    """key -> bytes of every file of the old lake."""
    root = FIXTURE / "lake"
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def old_lake_settings(settings: Settings, store_settings: Settings | None = None) -> tuple[Settings, Lake]:
    """`settings` (or `store_settings`) with the old lake's files written to its lake."""
    current = store_settings or settings
    lake = Lake.from_settings(current)
    for key, data in fixture_files().items():
        lake.store.put(key, data)
    return current, lake


def parsed_rows(lake: Lake) -> list[dict]:
    with duckdb.connect() as con:
        connect_lake_views(con, lake)
        cursor = con.execute("SELECT paper_id, title, content_hash, source, date FROM lake_parsed ORDER BY paper_id")
        return [dict(zip([d[0] for d in cursor.description], row)) for row in cursor.fetchall()]


def old_staged_rows() -> list[dict]:
    (path,) = (FIXTURE / "lake" / "staged").rglob("part-*.parquet")
    rows = pq.read_table(path, columns=["paper_id", "title", "content_hash"]).to_pylist()
    return sorted(({**row, "source": "snapshot", "date": DAY} for row in rows), key=lambda r: r["paper_id"])


def s3_settings(settings: Settings, seaweed, bucket: str) -> Settings:
    return settings._replace(
        lake_url=f"s3://{bucket}/lake", s3=S3Options(seaweed.endpoint_url, seaweed.access_key, seaweed.secret_key)
    )


def test_an_old_lake_is_refused_until_migrated_then_reads_and_builds_the_marts_as_before(settings, tmp_path):
    settings, lake = old_lake_settings(settings)
    with pytest.raises(LakeNotMigrated, match=r"former name staged/ .* run `paperlake migrate`"):
        parsed_rows(lake)
    new_run = settings._replace(snapshot_path=write_snapshot(tmp_path / "page.txt", papers=3))
    with pytest.raises(LakeNotMigrated, match="run `paperlake migrate`"):  # before its commit: nothing committed
        ingest(new_run, "snapshot", DAY)
    assert lake.store.list("_commits") == sorted(k for k in fixture_files() if k.startswith("_commits/"))

    done = migrate_lake(lake, RETENTION)
    assert done["files_moved"] == 2 and lake.store.list("staged") == []
    assert lake.store.list("parsed/_delta_log") == ["parsed/_delta_log/00000000000000000000.json"]
    files = {key: lake.store.get(key) for key in lake.store.list("")}
    assert migrate_lake(lake, RETENTION) == {key: 0 for key in done}  # a second run changes nothing
    assert {key: lake.store.get(key) for key in lake.store.list("")} == files
    assert parsed_rows(lake) == old_staged_rows()
    marts_stage(settings)
    assert mart_rows(settings) == json.loads((FIXTURE / "marts.json").read_text())
    ingest(new_run, "snapshot", DAY)  # a new run commits and publishes on the migrated lake
    assert len(parsed_rows(lake)) == 3


def test_a_migration_interrupted_halfway_is_finished_by_the_next(settings):
    settings, lake = old_lake_settings(settings)
    (data,) = [key for key in lake.store.list("staged") if "/_delta_log/" not in key]
    lake.store.put("parsed" + data[len("staged"):], lake.store.get(data))  # copied, not yet deleted: killed here
    assert move_renamed_layers(lake) == 2
    assert move_renamed_layers(lake) == 0
    migrate_lake(lake, RETENTION)
    assert parsed_rows(lake) == old_staged_rows()


def test_an_old_lake_on_s3_migrates_and_reads_as_before(settings, seaweed, s3_bucket):
    settings, lake = old_lake_settings(settings, s3_settings(settings, seaweed, s3_bucket))
    with pytest.raises(LakeNotMigrated, match="run `paperlake migrate`"):
        parsed_rows(lake)
    done = migrate_lake(lake, RETENTION)
    assert done["files_moved"] == 2 and lake.store.list("staged") == []
    assert migrate_lake(lake, RETENTION) == {key: 0 for key in done}
    assert parsed_rows(lake) == old_staged_rows()
    marts_stage(settings)
    assert mart_rows(settings) == json.loads((FIXTURE / "marts.json").read_text())
