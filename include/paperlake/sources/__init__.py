"""Sources: each module fetches raw pages for a data interval and parses them into PaperRecords.

A source module exposes `fetch(request: FetchRequest) -> list[RawPage]` and
`parse(pages: list[RawPage]) -> list[PaperRecord]`; parsing never touches the network, so any
date can be re-parsed from the raw layer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Callable

from paperlake.config import Settings
from paperlake.lake import Lake, PartitionSummary

KNOWN_SOURCES = ("snapshot",)


@dataclass(frozen=True)
class FetchRequest:
    """One source's work for one data interval; the clock is injected so tests control time."""

    settings: Settings
    day: date
    interval_start: datetime
    interval_end: datetime
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @classmethod
    def for_day(cls, settings: Settings, day: date, **kwargs) -> FetchRequest:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return cls(settings=settings, day=day, interval_start=start, interval_end=start + timedelta(days=1), **kwargs)


def load_source(name: str) -> ModuleType:
    """The module implementing source `name`; a clear error for an unknown name."""
    if name not in KNOWN_SOURCES:
        raise ValueError(f"unknown source {name!r}; known sources: {', '.join(KNOWN_SOURCES)}")
    return importlib.import_module(f"paperlake.sources.{name}")


def fetch_partition(lake: Lake, source: str, request: FetchRequest) -> PartitionSummary:
    """Fetch the interval's raw pages and land them verbatim in `raw/source=S/date=D/`."""
    pages = load_source(source).fetch(request)
    uri = lake.write_raw(source, request.day, pages)
    return PartitionSummary(
        layer="raw", source=source, date=request.day.isoformat(), rows=len(pages), uri=uri,
        counts={"pages": len(pages), "bytes": sum(len(p.body) for p in pages)},
    )
