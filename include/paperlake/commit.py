"""The run commit protocol: every layer of one (source, date) run becomes current in one atomic step.

A run writes only new files, named by its run id. Committing it creates the partition's next
generation, `_commits/source=S/date=D/<generation>.json`, with a put-if-absent (an S3 conditional
write, `If-None-Match: *`; a hard link locally): of two runs racing for one generation exactly one
wins, and a run that started before another committed fails with CommitConflict instead of
overwriting newer data. The highest generation names the current run; readers follow it, so they
see the previous run or the new one, never a mix. Files of runs no commit names any more are
deleted after a retention period (`garbage`).
"""

from __future__ import annotations

import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from paperlake.errors import CommitConflict, PaperlakeError, ShrinkRefused
from paperlake.lake import (
    RAW_MANIFEST,
    TABLE_FILE,
    TABLE_LAYERS,
    TAGGED_MANIFEST,
    VALIDATION_REPORT,
    VALIDATION_RESULT,
    Lake,
    partition_of,
)
from paperlake.layer_columns import RENAMED_LAYERS
from paperlake.storage import Store

COMMITS = "_commits"
# Everything a committed run holds, as (layer, document).
RUN_DOCUMENTS = (
    ("raw", RAW_MANIFEST),
    *((layer, TABLE_FILE) for layer in TABLE_LAYERS),
    ("entities", TAGGED_MANIFEST),
    ("validation", VALIDATION_RESULT),
    ("validation", VALIDATION_REPORT),
)
RUN_ID_PATTERN = re.compile(r"-(\d{8}T\d{6}Z-[0-9a-f]{8})\.[a-z]+$")
GENERATION_PATTERN = re.compile(r"/(\d{10})\.json$")


@dataclass(frozen=True)
class Commit:
    """One generation of a partition: which run is current, its row counts, and where it came from."""

    source: str
    date: str
    generation: int
    run_id: str
    rows: dict[str, int]
    committed_at: str
    previous_run_id: str | None = None
    airflow_run_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def day(self) -> date:
        return date.fromisoformat(self.date)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Commit:
        """A commit as written; the row counts of a layer it names by a former name (RENAMED_LAYERS) under today's."""
        fields = json.loads(data)
        fields["rows"] = {RENAMED_LAYERS.get(layer, layer): rows for layer, rows in fields["rows"].items()}
        return cls(**fields)


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC start time plus 32 random bits (`20261201T113252Z-1a2b3c4d`)."""
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def commit_prefix(source: str, day: date) -> str:
    return f"{COMMITS}/source={source}/date={day.isoformat()}"


def commit_key(source: str, day: date, generation: int) -> str:
    return f"{commit_prefix(source, day)}/{generation:010d}.json"


def _generation(key: str) -> int | None:
    match = GENERATION_PATTERN.search(key)
    return int(match.group(1)) if match else None


def current_commit(store: Store, source: str, day: date) -> Commit | None:
    """The partition's current commit (highest generation), or None when nothing was ever committed."""
    generations = {g: key for key in store.list(commit_prefix(source, day)) if (g := _generation(key)) is not None}
    return Commit.from_json(store.get(generations[max(generations)])) if generations else None


def current_commits(store: Store) -> dict[tuple[str, date], Commit]:
    """(source, date) -> current commit, for every committed partition of the lake."""
    return read_commits(store, current_generations(store).values())


def current_generations(store: Store) -> dict[tuple[str, date], tuple[int, str]]:
    """(source, date) -> (generation, key) of every committed partition's current commit, from the keys only (one
    listing, no commit read)."""
    latest: dict[tuple[str, date], tuple[int, str]] = {}
    for key in store.list(COMMITS):
        generation = _generation(key)
        if generation is not None and generation > latest.get(partition_of(key), (0, ""))[0]:
            latest[partition_of(key)] = (generation, key)
    return latest


def read_commits(store: Store, generations) -> dict[tuple[str, date], Commit]:
    """(source, date) -> commit, for the (generation, key) pairs of `current_generations` given."""
    with ThreadPoolExecutor(max_workers=8) as pool:  # S3: one small GET each, overlapped
        commits = list(pool.map(lambda key: Commit.from_json(store.get(key)), (key for _, key in generations)))
    return {(commit.source, commit.day): commit for commit in commits}


def committed_dates(store: Store, source: str, first: date, last: date) -> list[date]:
    """Dates in [first, last] with a committed partition of `source`, in order (read from the keys only)."""
    days = {partition_of(key)[1] for key in store.list(f"{COMMITS}/source={source}") if _generation(key) is not None}
    return sorted(day for day in days if first <= day <= last)


def base_generation(store: Store, source: str, day: date) -> int:
    """The generation a new run starts from (0: nothing committed yet)."""
    commit = current_commit(store, source, day)
    return commit.generation if commit else 0


def committed_run(lake: Lake, source: str, day: date) -> str:
    """The run id of the partition's current commit; FileNotFoundError saying what to ingest when none exists."""
    commit = current_commit(lake.store, source, day)
    if commit is None:
        raise FileNotFoundError(
            f"no committed run for source={source} date={day} in {lake.url}; run `paperlake ingest --source {source} "
            f"--date {day}` first"
        )
    return commit.run_id


def committed_key(lake: Lake, layer: str, source: str, day: date, name: str = TABLE_FILE) -> str:
    """The key of document `name` in the partition's committed run; FileNotFoundError when none is committed."""
    return lake.run_key(layer, source, day, committed_run(lake, source, day), name)


def committed_keys(lake: Lake, layer: str, name: str = TABLE_FILE) -> list[str]:
    """Keys of document `name` of a layer in every committed partition."""
    commits = current_commits(lake.store)
    return lake.run_keys(layer, {key: commit.run_id for key, commit in commits.items()}, name)


def run_rows(lake: Lake, source: str, day: date, run_id: str) -> dict[str, int]:
    """Rows per table layer of a run (from Parquet footers), checking that every document of the run exists."""
    missing = [
        lake.uri(key) for layer, name in RUN_DOCUMENTS
        if not lake.store.exists(key := lake.run_key(layer, source, day, run_id, name))
    ]
    if missing:
        raise PaperlakeError(
            f"{source} {day}: run {run_id} is incomplete, not committed: missing {', '.join(missing)}; rerun the ingest"
        )
    return {layer: lake.table_rows(layer, source, day, run_id) for layer in TABLE_LAYERS}


def check_shrink(previous: Commit | None, rows: dict[str, int], min_keep_share: float, run_id: str) -> None:
    """Refuse a run whose clean rows fall under `min_keep_share` of the committed run's (to 0, say)."""
    if previous is None or not previous.rows.get("clean"):
        return
    before, after = previous.rows["clean"], rows["clean"]
    if after < before * min_keep_share:
        raise ShrinkRefused(
            f"{previous.source} {previous.date}: run {run_id} would replace the committed run {previous.run_id} "
            f"({before} clean rows) with {after} clean rows (under {min_keep_share:.0%}); the committed "
            "partition is kept. "
            f"If the source really shrank, rerun with allow_shrink (DAG param) or --allow-shrink (CLI)."
        )


def commit_run(
    lake: Lake, source: str, day: date, run_id: str, *, min_keep_share: float, allow_shrink: bool = False,
    airflow_run_id: str | None = None, now: datetime | None = None,
) -> Commit:
    """Make a complete run the partition's current state in one atomic step; else CommitConflict or ShrinkRefused."""
    manifest = lake.read_raw_manifest(source, day, run_id)
    base = int(manifest.get("base_generation", 0))
    rows = run_rows(lake, source, day, run_id)
    if rows["clean"] + rows["quarantine"] != rows["parsed"]:
        raise PaperlakeError(
            f"{source} {day}: run {run_id} is inconsistent, not committed: clean {rows['clean']} + quarantine "
            f"{rows['quarantine']} != parsed {rows['parsed']}"
        )
    previous = current_commit(lake.store, source, day)
    if (previous.generation if previous else 0) != base:
        raise CommitConflict(
            f"{source} {day}: run {previous.run_id} committed generation {previous.generation} after run {run_id} "
            f"started from generation {base}; run {run_id} is not committed (the newer data is kept). "
            "Rerun to ingest again."
        )
    if not allow_shrink:
        check_shrink(previous, rows, min_keep_share, run_id)
    commit = Commit(
        source=source, date=day.isoformat(), generation=base + 1, run_id=run_id,
        rows=rows | {"raw_pages": len(manifest["pages"])}, committed_at=(now or datetime.now(UTC)).isoformat(),
        previous_run_id=previous.run_id if previous else None, airflow_run_id=airflow_run_id,
    )
    try:
        lake.store.put_if_absent(commit_key(source, day, commit.generation), commit.to_json())
    except FileExistsError:
        winner = current_commit(lake.store, source, day)
        raise CommitConflict(
            f"{source} {day}: run {winner.run_id if winner else '?'} committed generation {commit.generation} first; "
            f"run {run_id} is not committed. Rerun to ingest again."
        ) from None
    return commit
