import os
import threading
import time
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paperlake.commit import committed_run
from paperlake.lake import Lake, RawPage
from paperlake.schemas import ENTITIES, LAYER_SCHEMAS
from paperlake.storage import (
    TEMP_FILE_MAX_AGE,
    TEMP_SUFFIX,
    LocalStore,
    S3Store,
    file_to_publish,
    open_store,
    settling_copy,
)

DAY = date(2026, 11, 26)
RUN, OTHER_RUN = "20261126T060000Z-0000000a", "20261126T070000Z-0000000b"


def entity_rows(n: int, tag: str = "a") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"paper_id": f"p{i}", "content_hash": "h", "entity_id": tag, "label": "MODEL", "text": tag,
             "start_char": 0, "end_char": 1, "tagger_version": "v"}
            for i in range(n)
        ],
        schema=ENTITIES,
    )


@pytest.fixture(params=["local", "s3"])
def any_lake(request, tmp_path):
    if request.param == "local":
        return Lake(LocalStore(tmp_path / "lake"))
    seaweed = request.getfixturevalue("seaweed")
    bucket = request.getfixturevalue("s3_bucket")
    from tests.support.seaweed import s3_options

    options = s3_options(seaweed)
    return Lake(S3Store(bucket, "prefix/lake", options))


def test_a_runs_file_sits_in_its_layer_source_date_partition_named_by_the_run(any_lake):
    uri = any_lake.write_table("entities", "snapshot", DAY, entity_rows(2), RUN)
    assert uri.endswith(f"entities/source=snapshot/date=2026-11-26/part-{RUN}.parquet")
    assert any_lake.store.list("entities") == [f"entities/source=snapshot/date=2026-11-26/part-{RUN}.parquet"]
    assert any_lake.read_table("entities", "snapshot", DAY, run_id=RUN).num_rows == 2


def test_in_a_table_folder_only_the_table_has_a_plain_name_every_sidecar_a_leading_underscore(any_lake):
    any_lake.write_table("entities", "snapshot", DAY, entity_rows(1), RUN)
    any_lake.write_table("entities", "snapshot", DAY, entity_rows(1), RUN, "chunk00000.parquet")
    any_lake.write_json("entities", "snapshot", DAY, "tagged.json", {"tagger_version": "v"}, RUN)
    any_lake.write_json("validation", "snapshot", DAY, "result.json", {}, RUN)
    prefix = "source=snapshot/date=2026-11-26"
    assert any_lake.store.list("entities") == [
        f"entities/{prefix}/_chunk00000-{RUN}.parquet",
        f"entities/{prefix}/_tagged-{RUN}.json",
        f"entities/{prefix}/part-{RUN}.parquet",
    ]
    assert any_lake.read_json("entities", "snapshot", DAY, "tagged.json", run_id=RUN) == {"tagger_version": "v"}
    # not a table: names unchanged
    assert any_lake.store.list("validation") == [f"validation/{prefix}/result-{RUN}.json"]
    size, modified = any_lake.store.stat(f"entities/{prefix}/part-{RUN}.parquet")
    assert size > 0 and modified > 0
    with pytest.raises(FileNotFoundError):
        any_lake.store.stat(f"entities/{prefix}/part-{OTHER_RUN}.parquet")


def test_written_schema_is_the_layer_schema_whatever_the_input_column_order(any_lake):
    shuffled = entity_rows(1).select(list(reversed(ENTITIES.names)))
    any_lake.write_table("entities", "snapshot", DAY, shuffled, RUN)
    assert any_lake.read_table("entities", "snapshot", DAY, run_id=RUN).schema.equals(ENTITIES)


def test_empty_day_writes_an_empty_file_with_the_schema(any_lake):
    for layer, schema in LAYER_SCHEMAS.items():
        any_lake.write_table(layer, "snapshot", DAY, schema.empty_table(), RUN)
        table = any_lake.read_table(layer, "snapshot", DAY, run_id=RUN)
        assert table.num_rows == 0 and table.schema.equals(schema)


def test_missing_columns_are_a_clear_error(any_lake):
    with pytest.raises(ValueError, match=r"lacks columns \['content_hash'"):
        any_lake.write_table("entities", "snapshot", DAY, entity_rows(1).drop_columns(["content_hash"]), RUN)


def test_a_partition_never_committed_names_what_to_run(any_lake):
    any_lake.write_table("clean", "snapshot", DAY, LAYER_SCHEMAS["clean"].empty_table(), RUN)  # written, not committed
    with pytest.raises(
        FileNotFoundError, match="no committed run for source=snapshot date=2026-11-26.*paperlake ingest"
    ):
        any_lake.read_table("clean", "snapshot", DAY, run_id=committed_run(any_lake, 'snapshot', DAY))


def test_raw_pages_round_trip_and_runs_share_identical_pages(any_lake):
    first = [
        RawPage(name=f"page-{i}.xml", body=f"<p{i}/>".encode(), url=f"http://x/{i}", fetched_at="t1") for i in range(3)
    ]
    any_lake.write_raw("arxiv", DAY, first, {}, RUN)
    assert [p.body for p in any_lake.read_raw("arxiv", DAY, RUN)] == [b"<p0/>", b"<p1/>", b"<p2/>"]
    second = [
        RawPage(name="page-0.xml", body=b"<p0/>", url="http://x/0", status=200, headers={"a": "b"}, fetched_at="t2")
    ]
    any_lake.write_raw("arxiv", DAY, second, {}, OTHER_RUN)
    assert any_lake.read_raw("arxiv", DAY, OTHER_RUN) == second
    assert [p.body for p in any_lake.read_raw("arxiv", DAY, RUN)] == [b"<p0/>", b"<p1/>", b"<p2/>"]  # untouched
    assert len(any_lake.store.list("raw/source=arxiv/date=2026-11-26")) == 3 + 2  # three pages, two manifests


def test_local_write_is_atomic_readers_never_see_a_partial_file(tmp_path):
    """A reader polling during many rewrites only ever reads complete, valid Parquet files."""
    lake = Lake(LocalStore(tmp_path / "lake"))
    lake.write_table("entities", "s", DAY, entity_rows(1000, "a"), RUN)
    path = tmp_path / f"lake/entities/source=s/date=2026-11-26/part-{RUN}.parquet"
    stop, seen, errors = threading.Event(), set(), []

    def reader():
        while not stop.is_set():
            try:  # one open() per read: the reader holds one inode, as a real reader does
                with open(path, "rb") as f:
                    seen.add(pq.read_table(f).num_rows)
            except Exception as err:  # a torn read would land here
                errors.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(40):
        lake.write_table("entities", "s", DAY, entity_rows(1000 if i % 2 else 2000, "a"), RUN)
    stop.set()
    thread.join()
    assert not errors
    assert seen <= {1000, 2000}
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp files left
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


def test_a_published_file_is_opened_through_the_store_s_local_copy_and_replaced_whole(any_lake, tmp_path):
    store, key, cache = any_lake.store, "marts/published.bin", tmp_path / "cache"
    assert store.published_copy(key, cache) is None
    for version in (b"version 1", b"version 2"):
        with file_to_publish(store, key, cache) as finished:
            assert not finished.exists()  # DuckDB creates its file itself
            finished.write_bytes(version)
            finished.with_name(finished.name + ".wal").write_bytes(b"a WAL the build left")
            store.publish_file(key, finished, cache)
        assert not [p for p in finished.parent.iterdir() if p.name.startswith(".")]  # no temp file, no WAL left
        assert store.get(key) == version
        assert store.published_copy(key, cache).read_bytes() == version
        # Another machine's reader, with a cache of its own, sees the same version.
        assert store.published_copy(key, tmp_path / "other cache").read_bytes() == version
    with pytest.raises(RuntimeError), file_to_publish(store, key, cache) as unfinished:
        unfinished.write_bytes(b"half a version")
        raise RuntimeError("the build failed")
    assert not unfinished.exists() and store.get(key) == b"version 2"
    store.delete([key])
    store.drop_local_copy(key, cache)
    assert store.published_copy(key, cache) is None and not list(cache.glob("*"))


def test_a_settling_copy_is_flushed_while_the_block_runs_and_a_failed_flush_fails_the_block(tmp_path, monkeypatch):
    """The marts build updates its copy while the copy is written to disk (and the original's cached pages dropped) in
    a thread; the block's end waits for it, and a disk error there is raised (nothing is published after it)."""
    original, copy = tmp_path / "published", tmp_path / "copy"
    original.write_bytes(b"published version")
    copy.write_bytes(b"published version")
    flushing, block_done, real_fsync = threading.Event(), threading.Event(), os.fsync
    flushed = []

    def fsync(fd):
        flushing.set()
        assert block_done.wait(5)  # still flushing while the block runs
        real_fsync(fd)
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", fsync)
    with settling_copy(original, copy):
        assert flushing.wait(5)
        copy.write_bytes(b"next version")
        block_done.set()
    assert flushed == [str(copy)] and original.read_bytes() == b"published version"
    with settling_copy(tmp_path / "replaced meanwhile", copy):  # nothing to drop, nothing wrong
        pass
    monkeypatch.delattr(os, "posix_fadvise")  # as on macOS: the copy is still flushed, nothing dropped
    flushed.clear()
    with settling_copy(original, copy):
        copy.write_bytes(b"version without fadvise")
    assert flushed == [str(copy)]

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output error"), settling_copy(original, copy):
        pass


def test_a_new_file_to_publish_sweeps_what_a_killed_writer_left_beside_it_and_keeps_a_running_one_s(
    any_lake, tmp_path
):
    store, key, cache = any_lake.store, "marts/published.bin", tmp_path / "cache"
    folder = store.new_file_path(key, cache).parent
    killed, running = (folder / f".published.bin.{name}{TEMP_SUFFIX}" for name in ("killed", "running"))
    for leftover in (killed, running, killed.with_name(killed.name + ".wal")):
        leftover.write_bytes(b"half a build")
    stale = time.time() - TEMP_FILE_MAX_AGE.total_seconds() - 60
    for leftover in (killed, killed.with_name(killed.name + ".wal")):
        os.utime(leftover, (stale, stale))
    path = store.new_file_path(key, cache)
    assert path.parent == folder and not path.exists()
    assert sorted(p.name for p in folder.iterdir()) == [running.name]


def test_open_store_understands_the_lake_url_forms(tmp_path):
    from paperlake.config import S3Options

    assert isinstance(open_store(str(tmp_path), S3Options()), LocalStore)
    assert isinstance(open_store(tmp_path.as_uri(), S3Options()), LocalStore)
    s3 = open_store("s3://bucket/some/prefix", S3Options(endpoint_url="http://127.0.0.1:1"))
    assert isinstance(s3, S3Store) and s3.uri("k") == "s3://bucket/some/prefix/k"
    with pytest.raises(ValueError, match="unsupported scheme 'gs'"):
        open_store("gs://bucket/x", S3Options())
    with pytest.raises(ValueError, match="names no bucket"):
        open_store("s3:///x", S3Options())


def test_a_streamed_table_is_one_row_group_per_write_and_reads_back_in_batches(any_lake):
    with any_lake.table_writer("entities", "snapshot", DAY, RUN) as writer:
        for n in (3, 0, 4, 5):  # an empty batch adds no row group
            writer.write(entity_rows(n, f"t{n}"))
    assert writer.rows == 12
    whole = any_lake.read_table("entities", "snapshot", DAY, run_id=RUN)
    with any_lake.open_table("entities", "snapshot", DAY, run_id=RUN) as parquet:
        assert parquet.metadata.num_row_groups == 3
    batches = list(any_lake.table_batches("entities", "snapshot", DAY, ["entity_id"], run_id=RUN, batch_rows=2))
    assert max(batch.num_rows for batch in batches) == 2
    assert pa.concat_tables(batches).column("entity_id").equals(whole.column("entity_id"))
    assert any_lake.read_rows("entities", "snapshot", DAY, 2, 6, run_id=RUN).equals(whole.slice(2, 6))
    assert any_lake.read_rows("entities", "snapshot", DAY, 12, 5, run_id=RUN).num_rows == 0


def test_a_failure_inside_a_streamed_write_publishes_nothing(any_lake):
    key = any_lake.run_key("entities", "snapshot", DAY, RUN)
    with pytest.raises(RuntimeError, match="the batch after the first failed"):
        with any_lake.table_writer("entities", "snapshot", DAY, RUN) as writer:
            writer.write(entity_rows(3))
            assert not any_lake.store.exists(key)  # nothing is visible before the block ends
            raise RuntimeError("the batch after the first failed")
    assert not any_lake.store.exists(key) and any_lake.store.list("entities") == []
    if isinstance(any_lake.store, LocalStore):  # and no temp file is left beside it
        assert not [path for path in (any_lake.store.root / "entities").rglob("*") if path.is_file()]


def test_no_s3_credentials_anywhere_is_an_operator_error_not_a_crash(monkeypatch, tmp_path):
    """A PaperlakeError: the CLI prints it in one line and Airflow logs it, where a RuntimeError gave a traceback."""
    from paperlake.config import S3Options
    from paperlake.errors import PaperlakeError
    from paperlake.storage import s3_credentials

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(PaperlakeError, match="no S3 credentials"):
        s3_credentials(S3Options(endpoint_url="http://127.0.0.1:1"))
