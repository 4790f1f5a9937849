"""The stages of one (source, date), each a single call: what DAG tasks and the CLI both run."""

from __future__ import annotations

from datetime import date, datetime

from paperlake.config import Settings
from paperlake.lake import Lake


def fetch_stage(settings: Settings, source: str, day: date, interval: tuple[datetime, datetime] | None = None) -> dict:
    """Fetch the data interval (default: the whole UTC day) into `raw/`."""
    from paperlake.sources import FetchRequest, fetch_partition

    request = FetchRequest.for_day(settings, day)
    if interval is not None:
        request = FetchRequest(settings=settings, day=day, interval_start=interval[0], interval_end=interval[1])
    return fetch_partition(Lake.from_settings(settings), source, request).to_dict()


def clean_stage(settings: Settings, source: str, day: date) -> dict:
    """Parse `raw/` and write the cleaned records to `staged/`."""
    from paperlake.clean import clean_partition

    return clean_partition(Lake.from_settings(settings), source, day).to_dict()


def validate_stage(settings: Settings, source: str, day: date) -> dict:
    """Split `staged/` into `clean/` and `quarantine/` with the GX suite; write `validation/`."""
    from paperlake.validate import ValidationRules, validate_partition

    return validate_partition(Lake.from_settings(settings), source, day, ValidationRules.from_settings(settings)).to_dict()


def tag_stage(settings: Settings, source: str, day: date) -> dict:
    """Tag `clean/` into `entities/`."""
    from paperlake.tagging.partition import tag_partition

    return tag_partition(Lake.from_settings(settings), source, day).to_dict()


def marts_stage(settings: Settings) -> dict:
    """Rebuild and publish the DuckDB marts from the whole lake."""
    from paperlake.marts.builder import build_marts

    return build_marts(Lake.from_settings(settings), settings).to_dict()


def ingest(settings: Settings, source: str, day: date) -> list[dict]:
    """All ingest stages of one source and date, in DAG order."""
    return [stage(settings, source, day) for stage in (fetch_stage, clean_stage, validate_stage, tag_stage)]
