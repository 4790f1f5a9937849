"""The run commit protocol: a run becomes current whole or not at all, never mixed, never shrunk by accident."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from paperlake.commit import Commit, commit_key, committed_run, current_commit, new_run_id
from paperlake.config import Settings
from paperlake.errors import CommitConflict, PaperlakeError, ShrinkRefused
from paperlake.garbage import collect_garbage
from paperlake.lake import Lake
from paperlake.pipeline import commit_stage, fetch_stage, ingest, marts_stage, parse_stage, tag_stage, validate_stage
from paperlake.storage import LocalStore, S3Store
from tests.support.snapshots import write_snapshot

DAY = date(2026, 11, 26)
FIXTURES = Path(__file__).parents[1] / "fixtures"
LAYERS = ("parsed", "clean", "quarantine", "entities")


def with_snapshot(settings: Settings, path) -> Settings:
    return settings._replace(snapshot_path=path)


def committed_state(lake: Lake) -> dict:
    """What a reader sees of the partition: the committed run, its rows per layer, its raw bytes."""
    commit = current_commit(lake.store, "snapshot", DAY)
    return {
        "run_id": commit.run_id,
        "rows": {
            layer: lake.read_table(layer, "snapshot", DAY, run_id=committed_run(lake, "snapshot", DAY)).num_rows
            for layer in LAYERS
        },
        "raw": [page.body for page in lake.read_raw("snapshot", DAY, committed_run(lake, "snapshot", DAY))],
        "titles": sorted(
            lake.read_table("clean", "snapshot", DAY, run_id=committed_run(lake, "snapshot", DAY))
            .column("title")
            .to_pylist()
        ),
    }


@pytest.fixture
def good_day(settings, tmp_path):
    """A committed day of 40 papers, and settings for more runs of it."""
    good = with_snapshot(settings, write_snapshot(tmp_path / "good.txt", papers=40))
    ingest(good, "snapshot", DAY)
    return good, Lake.from_settings(good), committed_state(Lake.from_settings(good))


def test_an_empty_snapshot_does_not_replace_a_good_day_unless_allowed(good_day, tmp_path):
    settings, lake, before = good_day
    empty = with_snapshot(settings, tmp_path / "empty.txt")
    empty.snapshot_path.write_bytes(b"")
    with pytest.raises(
        ShrinkRefused,
        match=r"snapshot 2026-11-26: run .* would replace the committed run .* \(40 clean rows\) "
        r"with 0 clean rows.*allow_shrink",
    ):
        ingest(empty, "snapshot", DAY)
    assert committed_state(lake) == before
    marts_stage(settings)
    ingest(empty, "snapshot", DAY, allow_shrink=True)  # the operator says the day really is empty
    assert committed_state(lake)["rows"] == {layer: 0 for layer in LAYERS}


def test_a_run_that_keeps_most_rows_commits_and_the_share_is_configurable(good_day, tmp_path):
    settings, lake, _ = good_day
    smaller = with_snapshot(settings, write_snapshot(tmp_path / "smaller.txt", papers=25))
    ingest(smaller, "snapshot", DAY)  # 25 of 40 is above the default 50%
    assert committed_state(lake)["rows"]["clean"] == 25
    with pytest.raises(ShrinkRefused):
        ingest(
            smaller._replace(min_keep_share=0.9, snapshot_path=write_snapshot(tmp_path / "s.txt", papers=20)),
            "snapshot",
            DAY,
        )


def test_unreadable_input_fails_and_the_committed_raw_still_reparses(good_day, tmp_path):
    settings, lake, before = good_day
    noise = with_snapshot(settings, tmp_path / "noise.txt")
    noise.snapshot_path.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError):
        ingest(noise, "snapshot", DAY)
    assert committed_state(lake) == before
    ingest(settings, "snapshot", DAY, reparse=True)
    after = committed_state(lake)
    assert after["run_id"] != before["run_id"] and {k: after[k] for k in ("rows", "raw", "titles")} == {
        k: before[k] for k in ("rows", "raw", "titles")
    }


def test_a_run_failing_between_stages_leaves_every_layer_of_the_previous_run(good_day, tmp_path):
    settings, lake, before = good_day
    partial = with_snapshot(settings, write_snapshot(tmp_path / "partial.txt", papers=18, revision=" Revised."))
    run_id = fetch_stage(partial, "snapshot", DAY).run_id
    parse_stage(partial, "snapshot", DAY, run_id)
    validate_stage(partial, "snapshot", DAY, run_id)
    # the tag task dies here: readers and the marts still see the whole previous run
    assert committed_state(lake) == before
    assert marts_stage(settings).tables["papers"] == 40
    with pytest.raises(PaperlakeError, match=f"run {run_id} is incomplete, not committed: missing .*entities"):
        commit_stage(partial, "snapshot", DAY, run_id)
    assert committed_state(lake) == before


def test_two_runs_from_the_same_commit_the_second_fails_clearly_and_nothing_mixes(good_day, tmp_path):
    settings, lake, _ = good_day
    first = with_snapshot(settings, write_snapshot(tmp_path / "a.txt", papers=40, revision=" Version A."))
    second = with_snapshot(settings, write_snapshot(tmp_path / "b.txt", papers=40, revision=" Version B."))
    runs = {}
    for name, run_settings in (("a", first), ("b", second)):
        runs[name] = fetch_stage(run_settings, "snapshot", DAY).run_id
    for name, run_settings in (("b", second), ("a", first)):  # interleaved: b runs its stages, then a
        for stage in (parse_stage, validate_stage, tag_stage):
            stage(run_settings, "snapshot", DAY, runs[name])
    commit_stage(second, "snapshot", DAY, runs["b"])
    with pytest.raises(
        CommitConflict, match=f"run {runs['b']} committed generation 2 after run {runs['a']} started from generation 1"
    ):
        commit_stage(first, "snapshot", DAY, runs["a"])
    state = committed_state(lake)
    assert state["run_id"] == runs["b"]
    assert all(
        title and abstract.endswith("Version B.")
        for title, abstract in zip(
            state["titles"],
            lake.read_table("clean", "snapshot", DAY, run_id=committed_run(lake, "snapshot", DAY))
            .column("abstract")
            .to_pylist(),
        )
    )
    assert state["raw"] == [second.snapshot_path.read_bytes()]


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "lake")
    seaweed = request.getfixturevalue("seaweed")
    from tests.support.seaweed import s3_options

    options = s3_options(seaweed)
    return S3Store(request.getfixturevalue("s3_bucket"), "lake", options)


def test_put_if_absent_has_exactly_one_winner_among_racing_writers(store):
    key = commit_key("snapshot", DAY, 1)
    winners, barrier = [], threading.Barrier(12)

    def race(n: int):
        barrier.wait()
        try:
            store.put_if_absent(key, f"writer {n}".encode())
            winners.append(n)
        except FileExistsError:
            pass

    threads = [threading.Thread(target=race, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and store.get(key) == f"writer {winners[0]}".encode()


def test_garbage_collection_keeps_the_current_and_recent_runs_and_deletes_the_rest(settings, tmp_path):
    lake = Lake.from_settings(settings)
    runs = [
        ingest(
            with_snapshot(settings, write_snapshot(tmp_path / f"{n}.txt", papers=10, revision=f" R{n}.")),
            "snapshot",
            DAY,
        )[-1].run_id
        for n in range(3)
    ]
    abandoned = fetch_stage(settings, "snapshot", DAY).run_id  # a run that never committed
    store: LocalStore = lake.store
    partition = store.root / "clean/source=snapshot/date=2026-11-26"
    (partition / ".part-x.parquet.1234.tmp").write_bytes(b"half")  # what a killed writer leaves
    legacy = partition / "part.parquet"
    legacy.write_bytes(b"an older layout")

    def files(run_id):
        return [key for key in store.list("") if run_id in key]

    assert collect_garbage(lake, "snapshot", DAY, retention=timedelta(days=7)) == []  # everything is young
    # eight days later: only the current run survives (and pages its manifest names, and the legacy file)
    later = datetime.now(UTC) + timedelta(days=8)
    for path in store.root.rglob("*"):
        if path.is_file():
            os.utime(path, (time.time() - 8 * 86400,) * 2)
    deleted = collect_garbage(lake, "snapshot", DAY, retention=timedelta(days=7), now=later)
    assert all(files(run) for run in runs[2:]) and not any(files(run) for run in (*runs[:2], abandoned))
    assert set(deleted) >= {lake.run_key("clean", "snapshot", DAY, run) for run in runs[:2]} | {
        lake.run_key("raw", "snapshot", DAY, abandoned, "manifest.json")
    }
    assert [k for k in store.list("_commits")] == [commit_key("snapshot", DAY, 3)]
    assert not (partition / ".part-x.parquet.1234.tmp").exists() and legacy.exists()
    assert (
        committed_state(lake)["run_id"] == runs[2]
        and len(lake.read_raw("snapshot", DAY, committed_run(lake, "snapshot", DAY))) == 1
    )


def test_run_ids_sort_by_start_time_and_never_collide():
    early, late = new_run_id(datetime(2026, 1, 1, tzinfo=UTC)), new_run_id(datetime(2026, 1, 2, tzinfo=UTC))
    assert early < late and len({new_run_id() for _ in range(1000)}) == 1000


def test_a_commit_written_before_the_parse_layer_was_renamed_counts_its_rows_as_parsed():
    old = next((FIXTURES / "lake_before_parsed" / "lake" / "_commits").rglob("*.json")).read_bytes()
    assert b'"staged": 2' in old
    commit = Commit.from_json(old)
    assert commit.rows == {"parsed": 2, "clean": 2, "quarantine": 0, "entities": 17, "raw_pages": 1}
    assert Commit.from_json(commit.to_json()) == commit  # a commit written today reads as it was written
