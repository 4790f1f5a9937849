"""Sources: each module fetches raw pages for a data interval and parses them into PaperRecords.

A source module exposes `min_interval(http: HttpSettings) -> float` (seconds between requests),
`fetch(request: FetchRequest, fetcher: Fetcher) -> None` (which lands every response through the
fetcher) and `parse(pages: Iterable[RawPage]) -> Iterable[PaperRecord]` (records in page order;
lazy where that is cheap, so a large page need not be held as records). Parsing never touches the
network, so any date can be re-parsed from the raw layer: `parse_partition` writes a run's records, cleaned
and linked by title, to its `parsed/` table.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Callable

from paperlake import schemas
from paperlake.clean import clean_records
from paperlake.commit import base_generation, new_run_id
from paperlake.config import ALL_SOURCES, DEFAULT_BATCH_ROWS, Settings
from paperlake.identity import TITLE_LINKED_SOURCES, known_titles, link_by_title
from paperlake.lake import Lake, PartitionSummary, RawPage
from paperlake.sources.http import Fetcher


@dataclass(frozen=True)
class FetchRequest:
    """One source's work for one data interval; the clock is injected so tests control time."""

    settings: Settings
    day: date
    interval_start: datetime
    interval_end: datetime
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep

    def days(self) -> list[date]:
        """Every UTC date the interval touches, in order."""
        first, last = self.interval_start.date(), (self.interval_end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    @classmethod
    def for_day(cls, settings: Settings, day: date, **kwargs) -> FetchRequest:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return cls(settings=settings, day=day, interval_start=start, interval_end=start + timedelta(days=1), **kwargs)


def load_source(name: str) -> ModuleType:
    """The module implementing source `name`; a clear error for an unknown name."""
    if name not in ALL_SOURCES:
        raise ValueError(f"unknown source {name!r}; known sources: {', '.join(ALL_SOURCES)}")
    return importlib.import_module(f"paperlake.sources.{name}")


def fetch_partition(lake: Lake, source: str, request: FetchRequest) -> PartitionSummary:
    """Start a run: fetch the interval and land every response verbatim in `raw/source=S/date=D/` under a new run id.

    Nothing committed changes: the run's manifest records the generation it started from. A
    failed fetch lands what it received in `raw_errors/source=S/date=D/` for inspection, then re-raises.
    """
    module = load_source(source)
    http = request.settings.http
    fetcher = Fetcher(
        source, request.day, min_interval=module.min_interval(http), max_attempts=http.max_attempts,
        timeout=http.timeout, user_agent=http.user_agent, clock=request.clock, sleep=request.sleep,
    )
    run_id = new_run_id(request.clock())
    meta = {
        "interval_start": request.interval_start.isoformat(), "interval_end": request.interval_end.isoformat(),
        "base_generation": base_generation(lake.store, source, request.day),
    }
    try:
        module.fetch(request, fetcher)
    except Exception as err:
        lake.write_raw(source, request.day, fetcher.pages, meta | {"error": str(err)}, run_id, layer="raw_errors")
        raise
    finally:
        fetcher.close()
    uri = lake.write_raw(source, request.day, fetcher.pages, meta, run_id)
    return PartitionSummary(
        layer="raw", source=source, date=request.day.isoformat(), rows=len(fetcher.pages), uri=uri, run_id=run_id,
        counts={"pages": len(fetcher.pages), "bytes": sum(len(p.body) for p in fetcher.pages)},
    )


def parse_partition(
    lake: Lake, source: str, day: date, run_id: str, batch_rows: int = DEFAULT_BATCH_ROWS
) -> PartitionSummary:
    """Parse a run's raw pages and write every record, cleaned, to the run's `parsed/` table (no network).

    Records flow through `batch_rows` at a time, each batch one row group, so memory does not grow with the partition.
    """
    import itertools

    import pyarrow as pa

    titles = known_titles(lake, source) if source in TITLE_LINKED_SOURCES else None
    linked = 0
    rows = clean_records(load_source(source).parse(lake.iter_raw(source, day, run_id)))
    with lake.table_writer("parsed", source, day, run_id) as writer:
        while batch := list(itertools.islice(rows, batch_rows)):
            linked += link_by_title(batch, titles) if titles is not None else 0
            writer.write(pa.Table.from_pylist(batch, schema=schemas.PARSED))
    return PartitionSummary(
        layer="parsed", source=source, date=day.isoformat(), rows=writer.rows, uri=writer.uri, run_id=run_id,
        counts={"linked_by_title": linked},
    )


def data_pages(pages: Iterable[RawPage]) -> Iterator[RawPage]:
    """The pages a parser reads, as they come: successful responses that carry records."""
    return (page for page in pages if page.role == "data" and page.status == 200)
