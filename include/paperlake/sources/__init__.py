"""Sources: each module fetches raw pages for a data interval and parses them into PaperRecords.

A source module exposes `min_interval(http: HttpSettings) -> float` (seconds between requests),
`fetch(request: FetchRequest, fetcher: Fetcher) -> None` (which lands every response through the
fetcher) and `parse(pages: Iterable[RawPage]) -> Iterable[PaperRecord]` (records in page order;
lazy where that is cheap, so a large page need not be held as records). Parsing never touches the
network, so any date can be re-parsed from the raw layer.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Callable

from paperlake.config import ALL_SOURCES, Settings
from paperlake.lake import Lake, PartitionSummary, RawPage


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
    from paperlake.commit import base_generation, new_run_id
    from paperlake.sources.http import Fetcher

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


def data_pages(pages: Iterable[RawPage]) -> Iterator[RawPage]:
    """The pages a parser reads, as they come: successful responses that carry records."""
    return (page for page in pages if page.role == "data" and page.status == 200)
