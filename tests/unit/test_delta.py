"""The lake as Delta tables: other engines read exactly the committed rows, after reruns, a refused run, a
conflict and a killed run, on a local and an S3 (SeaweedFS) lake."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from paperlake.commit import committed_run, current_commits
from paperlake.config import S3Options, Settings
from paperlake.delta import (
    migrate_lake,
    open_table,
    publish_lake,
    publish_partition,
    published_files,
    table_uri,
)
from paperlake.errors import CommitConflict, PaperlakeError, ShrinkRefused
from paperlake.lake import TABLE_LAYERS, Lake
from paperlake.pipeline import (
    commit_stage,
    fetch_stage,
    ingest,
    parse_stage,
    tag_chunk_stage,
    tag_stage,
    validate_stage,
)
from paperlake.schemas import CLEAN, ENTITIES
from tests.support.lake_runs import commit_tables, paper, spans, table
from tests.support.snapshots import write_snapshot

DAY, OTHER_DAY = date(2026, 11, 26), date(2026, 11, 27)
RETENTION = timedelta(days=7)
# The columns that identify a row of each layer (what a reader must see exactly once).
ROW_KEYS = {
    "parsed": ["paper_id"],
    "clean": ["paper_id"],
    "quarantine": ["paper_id"],
    "entities": ["paper_id", "entity_id", "start_char"],
}


def snapshot_settings(settings: Settings, path) -> Settings:
    return settings._replace(snapshot_path=path)


def run_history(settings: Settings, tmp_path) -> None:
    """What the issue tried: reruns of one date, a refused run, a conflict, a killed run, and a second date."""
    good = snapshot_settings(settings, write_snapshot(tmp_path / "good.txt", papers=30))
    revised = snapshot_settings(settings, write_snapshot(tmp_path / "revised.txt", papers=25, revision=" Revised."))
    empty = snapshot_settings(settings, tmp_path / "empty.txt")
    empty.snapshot_path.write_bytes(b"")
    ingest(good, "snapshot", DAY)
    ingest(good, "snapshot", DAY)  # a rerun
    with pytest.raises(ShrinkRefused):
        ingest(empty, "snapshot", DAY)
    late = fetch_stage(good, "snapshot", DAY).run_id  # started before the next run committed: loses
    ingest(revised, "snapshot", DAY)
    for stage in (parse_stage, validate_stage, tag_stage):
        stage(good, "snapshot", DAY, late)
    with pytest.raises(CommitConflict):
        commit_stage(good, "snapshot", DAY, late)
    killed = fetch_stage(good, "snapshot", DAY).run_id  # killed while tagging: its files stay, uncommitted
    parse_stage(good, "snapshot", DAY, killed)
    validate_stage(good, "snapshot", DAY, killed)
    tag_chunk_stage(good, "snapshot", DAY, killed, 0)
    ingest(snapshot_settings(settings, write_snapshot(tmp_path / "other.txt", papers=8)), "snapshot", OTHER_DAY)


def committed_rows(lake: Lake, layer: str) -> list[tuple]:
    """(source, date, key columns...) of every row of the layer's committed runs, read by paperlake itself."""
    rows = []
    for (source, day), _ in current_commits(lake.store).items():
        found = lake.read_table(
            layer, source, day, columns=ROW_KEYS[layer], run_id=committed_run(lake, source, day)
        ).to_pylist()
        rows += [(source, day, *(row[c] for c in ROW_KEYS[layer])) for row in found]
    return sorted(rows)


def engine_rows(records, layer: str) -> list[tuple]:
    """The same tuples from an engine's rows (dicts); the partition `date` as a date."""
    def as_date(value):
        return (
            value
            if isinstance(value, date) and not isinstance(value, datetime)
            else date.fromisoformat(str(value)[:10])
        )

    return sorted((r["source"], as_date(r["date"]), *(r[c] for c in ROW_KEYS[layer])) for r in records)


def duckdb_delta(lake: Lake, settings: Settings):
    """A DuckDB connection with the delta extension loaded offline (and S3 credentials for an S3 lake)."""
    import duckdb
    from duckdb_extensions import import_extension

    con = duckdb.connect()
    lake.store.let_duckdb_read(con)
    import_extension("delta", con=con)
    con.execute("LOAD delta")
    return con


def assert_engines_read_committed_rows(lake: Lake, settings: Settings) -> dict[str, int]:
    """DuckDB delta_scan, deltalake (pyarrow, pandas) and Polars read exactly the committed rows; rows per layer."""
    import polars as pl

    con = duckdb_delta(lake, settings)
    counts = {}
    for layer in TABLE_LAYERS:
        expected = committed_rows(lake, layer)
        uri, options = table_uri(lake, layer), lake.store.delta_options()
        columns = ", ".join(["source", "date", *ROW_KEYS[layer]])
        duck = con.execute(f"SELECT {columns} FROM delta_scan('{uri}')").fetch_arrow_table().to_pylist()
        assert engine_rows(duck, layer) == expected, f"DuckDB delta_scan of {layer}"
        table = open_table(lake, layer)
        assert (
            engine_rows(table.to_pyarrow_table(columns=["source", "date", *ROW_KEYS[layer]]).to_pylist(), layer)
            == expected
        )
        assert (
            engine_rows(table.to_pandas(columns=["source", "date", *ROW_KEYS[layer]]).to_dict("records"), layer)
            == expected
        )
        polars = pl.scan_delta(uri, storage_options=options).select(["source", "date", *ROW_KEYS[layer]]).collect()
        assert engine_rows(polars.to_dicts(), layer) == expected, f"Polars scan_delta of {layer}"
        counts[layer] = len(expected)
    con.close()
    return counts


def test_engines_read_exactly_the_committed_rows_of_a_local_lake(settings, tmp_path):
    import pyarrow.dataset as ds

    run_history(settings, tmp_path)
    lake = Lake.from_settings(settings)
    counts = assert_engines_read_committed_rows(lake, settings)
    assert counts["clean"] == 25 + 8 and counts["entities"] > 0
    # Superseded runs stay on disk until the retention ends, but every table folder holds only table files:
    # a plain directory read (which does see superseded runs) does not fail on a sidecar.
    for layer in TABLE_LAYERS:
        assert ds.dataset(lake.uri(layer), format="parquet", partitioning="hive").count_rows() >= counts[layer]


def test_engines_read_exactly_the_committed_rows_of_an_s3_lake(seaweed, s3_bucket, tmp_path):
    import pyarrow.dataset as ds
    import pyarrow.fs

    env = {"PAPERLAKE_HOME": str(tmp_path / "home"), "PAPERLAKE_LAKE_URL": f"s3://{s3_bucket}/lake"}
    settings = Settings.from_env(env)._replace(
        s3=S3Options(seaweed.endpoint_url, seaweed.access_key, seaweed.secret_key)
    )
    run_history(settings, tmp_path)
    lake = Lake.from_settings(settings)
    counts = assert_engines_read_committed_rows(lake, settings)
    assert counts["clean"] == 25 + 8
    s3 = pyarrow.fs.S3FileSystem(
        access_key=seaweed.access_key, secret_key=seaweed.secret_key, endpoint_override=seaweed.endpoint_url.removeprefix("http://"),
        scheme="http", region="us-east-1",
    )
    assert (
        ds.dataset(f"{s3_bucket}/lake/entities", filesystem=s3, format="parquet", partitioning="hive").count_rows()
        >= counts["entities"]
    )


def two_runs(lake: Lake):
    """Two commits of DAY (3 papers, then 2), not yet published (as if killed between commit and publish)."""
    first = commit_tables(
        lake, "snapshot", DAY, clean=table([paper(f"a{i}", 1, f"a{i}", f"ha{i}") for i in range(3)], CLEAN)
    )
    second = commit_tables(
        lake,
        "snapshot",
        DAY,
        clean=table([paper(f"b{i}", 1, f"b{i}", f"hb{i}") for i in range(2)], CLEAN),
        entities=table(spans("b0", "hb0", ("BERT", "METHOD", 0)), ENTITIES),
    )
    return first, second


def test_a_publish_twice_changes_nothing_and_an_older_generation_never_replaces_a_newer(lake):
    first, second = two_runs(lake)
    assert publish_partition(lake, second, RETENTION) == list(TABLE_LAYERS)
    versions = {layer: open_table(lake, layer).version() for layer in TABLE_LAYERS}
    assert publish_partition(lake, second, RETENTION) == []
    assert publish_partition(lake, first, RETENTION) == []  # a stale publisher arriving late
    assert {layer: open_table(lake, layer).version() for layer in TABLE_LAYERS} == versions
    assert open_table(lake, "clean").to_pyarrow_table().column("paper_id").to_pylist() == ["b0", "b1"]


def test_a_commit_that_was_not_published_is_published_by_publish_or_by_garbage_collection(lake):
    from paperlake.garbage import collect_garbage

    first, second = two_runs(lake)
    assert published_files(lake, "clean") == []  # the worker died after committing
    assert publish_lake(lake, RETENTION) == {layer: 1 for layer in TABLE_LAYERS}
    assert publish_lake(lake, RETENTION) == {layer: 0 for layer in TABLE_LAYERS}
    third = commit_tables(lake, "snapshot", DAY, clean=table([paper("c", 1, "c", "hc")], CLEAN))
    collect_garbage(lake, "snapshot", DAY, retention=RETENTION)  # publishes before it deletes anything
    assert [f.rsplit("/", 1)[1] for f in published_files(lake, "clean")] == [f"part-{third.run_id}.parquet"]


def test_garbage_collection_and_delta_agree(lake):
    """GC deletes only files no kept commit names; the latest versions' files all stay, and Delta's own vacuum
    at the table's retention would delete none of them."""
    from paperlake.garbage import collect_garbage

    first, second = two_runs(lake)
    publish_partition(lake, first, RETENTION)
    publish_partition(lake, second, RETENTION)
    later = datetime.now(UTC) + RETENTION + timedelta(days=1)
    deleted = collect_garbage(lake, "snapshot", DAY, retention=RETENTION, now=later)
    assert lake.run_key("clean", "snapshot", DAY, first.run_id) in deleted
    for layer in TABLE_LAYERS:
        current = published_files(lake, layer)
        assert current and all(lake.store.exists(uri.removeprefix(lake.uri("")).lstrip("/")) for uri in current)
        table = open_table(lake, layer)
        assert table.metadata().configuration["delta.deletedFileRetentionDuration"] == "interval 168 hours"
        vacuumed = table.vacuum(
            retention_hours=int(RETENTION.total_seconds() // 3600), dry_run=True, enforce_retention_duration=False
        )
        assert not set(vacuumed) & {uri.removeprefix(table_uri(lake, layer) + "/") for uri in current}


def test_commits_of_two_dates_publishing_at_once_both_land(lake):
    day_one = commit_tables(lake, "snapshot", DAY, clean=table([paper("x", 1, "x", "hx")], CLEAN))
    day_two = commit_tables(lake, "snapshot", OTHER_DAY, clean=table([paper("y", 1, "y", "hy")], CLEAN))
    publish_partition(lake, day_one, RETENTION)  # the tables exist; the two publishes below race for each next version
    errors = []

    def publish(commit):
        try:
            publish_partition(lake, commit, RETENTION)
        except Exception as err:  # noqa: BLE001  (reported by the assertion below)
            errors.append(err)

    third = commit_tables(lake, "snapshot", DAY, clean=table([paper("z", 1, "z", "hz")], CLEAN))
    threads = [threading.Thread(target=publish, args=(commit,)) for commit in (third, day_two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(open_table(lake, "clean").to_pyarrow_table().column("paper_id").to_pylist()) == ["y", "z"]


def test_time_travel_reads_a_layer_as_of_a_version_or_a_timestamp(settings, lake, monkeypatch, capsys):
    from paperlake.cli import main
    from paperlake.pipeline import marts_stage

    first, second = two_runs(lake)
    publish_partition(lake, first, RETENTION)
    between = datetime.now(UTC)
    publish_partition(lake, second, RETENTION)
    marts_stage(settings)
    monkeypatch.setenv("PAPERLAKE_HOME", str(settings.home))

    def query(*args) -> str:
        assert (
            main(
                ["sql", "--format", "csv", *args, "SELECT string_agg(paper_id, ' ' ORDER BY paper_id) FROM lake_clean"]
            )
            == 0
        )
        return capsys.readouterr().out.splitlines()[-1]

    assert query("--as-of", "0") == "a0 a1 a2"
    assert query("--as-of", between.isoformat()) == "a0 a1 a2"
    assert query("--as-of", "1") == "b0 b1"
    assert main(["sql", "--as-of", "7", "SELECT 1"]) == 2
    assert "cannot be read as of 7" in capsys.readouterr().err
    assert main(["history", "--layer", "clean"]) == 0
    assert second.run_id in capsys.readouterr().out


def test_migrate_brings_an_older_lake_to_the_delta_layout(lake):
    first, second = two_runs(lake)
    for layer in TABLE_LAYERS:  # the older layout: no Delta logs, sidecars without their _ prefix
        shutil.rmtree(lake.store.root / layer / "_delta_log", ignore_errors=True)
    for commit in (first, second):
        new = lake.run_key("entities", "snapshot", DAY, commit.run_id, "tagged.json")
        old = new.replace("/_tagged-", "/tagged-")
        (lake.store.root / new).rename(lake.store.root / old)
    with pytest.raises(PaperlakeError, match="no Delta table .* run `paperlake migrate`"):  # not an empty answer
        published_files(lake, "clean", as_of=0)
    assert migrate_lake(lake, RETENTION) == {
        "files_moved": 0, "sidecars_renamed": 2, **{layer: 1 for layer in TABLE_LAYERS}
    }
    assert lake.store.exists(lake.run_key("entities", "snapshot", DAY, second.run_id, "tagged.json"))
    assert migrate_lake(lake, RETENTION) == {
        "files_moved": 0, "sidecars_renamed": 0, **{layer: 0 for layer in TABLE_LAYERS}
    }
    assert open_table(lake, "entities").to_pyarrow_table().column("entity_id").to_pylist() == ["BERT"]


def test_a_nullable_column_added_to_a_layer_schema_reaches_the_delta_table_older_partitions_read_null(
    lake, monkeypatch
):
    import pyarrow as pa

    from paperlake import schemas

    old = commit_tables(lake, "snapshot", DAY, clean=table([paper("old", 1, "old", "ho")], CLEAN))
    publish_partition(lake, old, RETENTION)
    wider = CLEAN.append(pa.field("ml_score", pa.float32()))
    monkeypatch.setitem(schemas.LAYER_SCHEMAS, "clean", wider)
    rows = table([paper("new", 1, "new", "hn") | {"ml_score": 0.5}], wider)
    new = commit_tables(lake, "snapshot", OTHER_DAY, clean=rows)
    publish_partition(lake, new, RETENTION)
    read = open_table(lake, "clean").to_pyarrow_table(columns=["paper_id", "ml_score"]).to_pylist()
    assert sorted(read, key=lambda r: r["paper_id"]) == [
        {"paper_id": "new", "ml_score": 0.5},
        {"paper_id": "old", "ml_score": None},
    ]


def test_file_paths_name_files_that_exist_under_a_folder_with_spaces_and_non_ascii(tmp_path):
    """delta-rs percent-encodes the table's folder in file_uris (my%20home), not the partition folders under it."""
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    from paperlake.delta import file_paths

    root = tmp_path / "my home ü 論文" / "t"
    write_deltalake(str(root), pa.table({"n": [1, 2], "part": ["a b", "c%d"]}), partition_by=["part"])
    table = DeltaTable(str(root))
    assert not all(Path(uri).is_file() for uri in table.file_uris())  # what the helper is for
    paths = file_paths(table)
    assert len(paths) == 2 and all(Path(path).is_file() for path in paths)
    assert [Path(p).is_file() for p in file_paths(table, partition_filters=[("part", "=", "a b")])] == [True]
