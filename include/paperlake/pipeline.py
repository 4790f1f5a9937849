"""The stages of one (source, date) run, each a single call: what DAG tasks and the CLI both run.

A run starts with `fetch_stage` (or `reparse_stage`), which gives it a run id; every later stage
writes only that run's files, and `commit_stage` makes them all current in one atomic step.
Stages return dataclasses; the DAG tasks turn them into dicts for XCom (`to_dict`).
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from paperlake.commit import Commit, commit_key, commit_run, committed_dates, current_commit, new_run_id
from paperlake.config import Settings
from paperlake.delta import PublishFailed, check_migrated, publish_partition
from paperlake.digest import compose_digest, publish_digest
from paperlake.errors import PaperlakeError
from paperlake.garbage import collect_garbage
from paperlake.lake import RAW_MANIFEST, Lake, PartitionSummary
from paperlake.marts.builder import MartsSummary, build_marts
from paperlake.marts.published import local_marts_path
from paperlake.search import IndexSummary, build_search_index
from paperlake.sources import FetchRequest, fetch_partition, load_source, parse_partition
from paperlake.tagging.partition import TaggedChunk, merge_tag_chunks, tag_chunk, tag_chunk_count, tag_partition
from paperlake.tagging.tagger import MODEL_DIR
from paperlake.validate import ValidationRules, validate_partition

log = logging.getLogger("paperlake")


@dataclass(frozen=True)
class CommitSummary:
    """What `commit_stage` did: the commit, its URI, the Delta tables it was published to, the old runs deleted."""

    commit: Commit
    uri: str
    published: list[str] = field(default_factory=list)
    garbage_collected: int = 0

    @property
    def run_id(self) -> str:
        return self.commit.run_id

    @property
    def rows(self) -> dict[str, int]:
        return self.commit.rows

    @property
    def counts(self) -> dict[str, int]:
        return self.commit.counts

    def to_dict(self) -> dict:
        return {
            **asdict(self.commit),
            "uri": self.uri,
            "published": list(self.published),
            "garbage_collected": self.garbage_collected,
        }


def logged_stage(stage):
    """Log a stage's start, and what it wrote (rows, counts, URI) and how long it took, at INFO."""

    @functools.wraps(stage)
    def run(settings: Settings, source: str, day: date, *args, **kwargs):
        name = stage.__name__.removesuffix("_stage")
        log.info("%s %s %s: started", name, source, day)
        started = time.monotonic()
        summary = stage(settings, source, day, *args, **kwargs)
        log.info(
            "%s %s %s: run %s, %s rows %s -> %s in %.1f s", name, source, day, summary.run_id,
            summary.rows, summary.counts or "", summary.uri, time.monotonic() - started,
        )
        return summary

    return run


@logged_stage
def fetch_stage(
    settings: Settings, source: str, day: date, interval: tuple[datetime, datetime] | None = None
) -> PartitionSummary:
    """Start a run: fetch the data interval (default: the whole UTC day) into the run's `raw/` manifest."""
    if interval is None:
        request = FetchRequest.for_day(settings, day)
    else:
        request = FetchRequest(settings=settings, day=day, interval_start=interval[0], interval_end=interval[1])
    return fetch_partition(Lake.from_settings(settings), source, request)


@logged_stage
def reparse_stage(settings: Settings, source: str, day: date) -> PartitionSummary:
    """Start a run from the committed raw pages (no network): a new manifest naming the same pages."""
    lake = Lake.from_settings(settings)
    committed = current_commit(lake.store, source, day)
    if committed is None:
        raise FileNotFoundError(
            f"nothing to reparse for source={source} date={day} in {lake.url}: no run was ever "
            "committed; ingest it first"
        )
    manifest = lake.read_raw_manifest(source, day, committed.run_id)
    run_id = new_run_id()
    meta = {k: v for k, v in manifest.items() if k not in ("run_id", "base_generation")}
    lake.write_raw_manifest(
        source, day, meta | {"base_generation": committed.generation, "reparse_of": committed.run_id}, run_id
    )
    pages = len(manifest["pages"])
    return PartitionSummary(
        layer="raw", source=source, date=day.isoformat(), rows=pages, run_id=run_id,
        uri=lake.uri(lake.run_key("raw", source, day, run_id, RAW_MANIFEST)), counts={"pages": pages, "reparse": 1},
    )


@logged_stage
def parse_stage(settings: Settings, source: str, day: date, run_id: str) -> PartitionSummary:
    """Parse the run's raw pages and write the cleaned records to its `parsed/` table."""
    return parse_partition(Lake.from_settings(settings), source, day, run_id, settings.batch_rows)


@logged_stage
def validate_stage(
    settings: Settings, source: str, day: date, run_id: str, airflow_run_id: str | None = None
) -> PartitionSummary:
    """Split the run's `parsed/` into `clean/` and `quarantine/` with the GX suite; write `validation/`."""
    lake = Lake.from_settings(settings)
    manifest = lake.read_raw_manifest(source, day, run_id)
    interval = None
    if "interval_start" in manifest:
        interval = (
            datetime.fromisoformat(manifest["interval_start"]),
            datetime.fromisoformat(manifest["interval_end"]),
        )
    rules = ValidationRules.from_settings(settings)
    return validate_partition(lake, source, day, run_id, rules, interval, airflow_run_id, settings.batch_rows)


@logged_stage
def tag_stage(settings: Settings, source: str, day: date, run_id: str) -> PartitionSummary:
    """Tag the run's `clean/` into its `entities/`, all chunks in this process."""
    lake = Lake.from_settings(settings)
    return tag_partition(
        lake, source, day, run_id, model_dir=_tagger_model(settings), chunk_rows=settings.tag_chunk_rows
    )


def tag_chunks_stage(settings: Settings, source: str, day: date, run_id: str) -> list[int]:
    """The chunk indexes the run's tagging splits into (one mapped Airflow task each)."""
    return list(range(tag_chunk_count(Lake.from_settings(settings), source, day, run_id, settings.tag_chunk_rows)))


def tag_chunk_stage(settings: Settings, source: str, day: date, run_id: str, index: int) -> TaggedChunk:
    """Tag one chunk of the run's `clean/` into a chunk file."""
    lake = Lake.from_settings(settings)
    return tag_chunk(lake, source, day, run_id, index, settings.tag_chunk_rows, model_dir=_tagger_model(settings))


@logged_stage
def tag_merge_stage(
    settings: Settings, source: str, day: date, run_id: str, chunks: list[TaggedChunk]
) -> PartitionSummary:
    """Merge the run's chunk files into its `entities/` table."""
    return merge_tag_chunks(Lake.from_settings(settings), source, day, run_id, chunks)


def _tagger_model(settings: Settings):
    return MODEL_DIR if settings.ner_model else None


@logged_stage
def commit_stage(
    settings: Settings,
    source: str,
    day: date,
    run_id: str,
    allow_shrink: bool = False,
    airflow_run_id: str | None = None,
) -> CommitSummary:
    """Make every layer of the run current in one atomic step, publish it to Delta tables, delete runs past retention.

    A publish that fails leaves the commit standing (paperlake's readers follow it) and is logged: the
    partition's next commit or garbage collection, or `paperlake publish`, makes it.
    """
    lake = Lake.from_settings(settings)
    check_migrated(lake)  # before the commit: on a lake not migrated yet it could not be published
    commit = commit_run(
        lake,
        source,
        day,
        run_id,
        min_keep_share=settings.min_keep_share,
        allow_shrink=allow_shrink,
        airflow_run_id=airflow_run_id,
    )
    uri = lake.uri(commit_key(source, day, commit.generation))
    try:
        published = publish_partition(lake, commit, settings.run_retention)
    except PublishFailed as err:
        log.warning("commit %s %s: %s", source, day, err)
        return CommitSummary(commit, uri)
    deleted = collect_garbage(lake, source, day, retention=settings.run_retention)
    return CommitSummary(commit, uri, published, len(deleted))


def committed_dates_stage(settings: Settings, source: str, first: str, last: str) -> list[date]:
    """The dates in [first, last] (ISO dates) that have a committed run of `source`; an error when there are none."""
    load_source(source)  # an unknown source is a clear error
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    lake = Lake.from_settings(settings)
    days = committed_dates(lake.store, source, start, end)
    if not days:
        raise PaperlakeError(
            f"{source}: no committed run between {start} and {end} in {lake.url}; nothing to reparse (ingest those "
            "dates first)"
        )
    skipped = (end - start).days + 1 - len(days)
    log.info(
        "%s: %d committed dates to reparse between %s and %s; %d dates without a committed run skipped",
        source,
        len(days),
        start,
        end,
        skipped,
    )
    return days


def marts_stage(settings: Settings, full: bool = False) -> MartsSummary:
    """Update the DuckDB marts with every committed partition and publish them; `full` rebuilds them from scratch."""
    started = time.monotonic()
    summary = build_marts(Lake.from_settings(settings), settings, full=full)
    log.info(
        "marts: %s build of %s (%d partitions recomputed) in %.1f s %s; rows per table %s",
        summary.build, summary.uri, summary.partitions, time.monotonic() - started, summary.seconds, summary.tables,
    )
    return summary


def search_index_stage(
    settings: Settings, full: bool = False, marts_exports: dict[str, dict] | None = None
) -> IndexSummary:
    """Bring the search index up to date with the published marts (only papers whose text changed) and publish it;
    `marts_exports`: what the marts build just before committed to its exports (`MartsSummary.exports`)."""
    summary = build_search_index(Lake.from_settings(settings), settings, full=full, marts_exports=marts_exports)
    log.info("search index: %s update of %s in %.1f s: %d papers indexed, %d removed, %d in all",
             summary.build, summary.uri, summary.seconds, summary.indexed, summary.removed, summary.papers)
    return summary


def digest_stage(settings: Settings):
    """Compose the digest from the published marts and write its page to the lake; returns (Digest, page URI).

    Marts with nothing trending yet (an empty lake) give (Digest, None): no page, nothing to send.
    """
    import duckdb

    lake = Lake.from_settings(settings)
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        digest = compose_digest(con)
    if digest.day is None:
        log.info("digest: the marts hold nothing trending yet (no committed papers); no digest written")
        return digest, None
    return digest, publish_digest(lake, digest)


def ingest(
    settings: Settings, source: str, day: date, reparse: bool = False, allow_shrink: bool = False
) -> list[PartitionSummary | CommitSummary]:
    """One whole run of a source and date, in DAG order; `reparse` rebuilds from the committed raw pages, no fetch."""
    started = reparse_stage(settings, source, day) if reparse else fetch_stage(settings, source, day)
    run_id = started.run_id
    summaries = [started]
    for stage in (parse_stage, validate_stage, tag_stage):
        summaries.append(stage(settings, source, day, run_id))
    summaries.append(commit_stage(settings, source, day, run_id, allow_shrink=allow_shrink))
    return summaries
