"""The stages of one (source, date), each a single call: what DAG tasks and the CLI both run."""

from __future__ import annotations

from datetime import date, datetime

from paperlake.config import Settings
from paperlake.lake import Lake


def fetch_stage(settings: Settings, source: str, day: date, interval: tuple[datetime, datetime] | None = None) -> dict:
    """Fetch the data interval (default: the whole UTC day) into `raw/`."""
    from paperlake.sources import FetchRequest, fetch_partition

    if interval is None:
        request = FetchRequest.for_day(settings, day)
    else:
        request = FetchRequest(settings=settings, day=day, interval_start=interval[0], interval_end=interval[1])
    return fetch_partition(Lake.from_settings(settings), source, request).to_dict()


def landed_raw_stage(settings: Settings, source: str, day: date) -> dict:
    """What an earlier fetch landed in `raw/` (for a reparse, which makes no network call)."""
    from paperlake.lake import PartitionSummary, RAW_MANIFEST

    lake = Lake.from_settings(settings)
    pages = lake.read_raw_manifest(source, day)["pages"]
    uri = lake.uri(f"{lake.partition_prefix('raw', source, day)}/{RAW_MANIFEST}")
    return PartitionSummary(layer="raw", source=source, date=day.isoformat(), rows=len(pages), uri=uri, counts={"pages": len(pages), "reparse": 1}).to_dict()


def clean_stage(settings: Settings, source: str, day: date) -> dict:
    """Parse `raw/` and write the cleaned records to `staged/`."""
    from paperlake.clean import clean_partition

    return clean_partition(Lake.from_settings(settings), source, day).to_dict()


def validate_stage(settings: Settings, source: str, day: date, run_id: str | None = None) -> dict:
    """Split `staged/` into `clean/` and `quarantine/` with the GX suite; write `validation/`."""
    from paperlake.validate import ValidationRules, validate_partition

    lake = Lake.from_settings(settings)
    manifest = lake.read_raw_manifest(source, day)
    interval = None
    if "interval_start" in manifest:
        interval = (datetime.fromisoformat(manifest["interval_start"]), datetime.fromisoformat(manifest["interval_end"]))
    return validate_partition(lake, source, day, ValidationRules.from_settings(settings), interval, run_id).to_dict()


def tag_stage(settings: Settings, source: str, day: date) -> dict:
    """Tag `clean/` into `entities/`."""
    from paperlake.tagging.partition import tag_partition
    from paperlake.tagging.pipeline import MODEL_DIR

    model_dir = MODEL_DIR if settings.ner_model else None
    return tag_partition(Lake.from_settings(settings), source, day, model_dir=model_dir).to_dict()


def marts_stage(settings: Settings) -> dict:
    """Rebuild and publish the DuckDB marts from the whole lake."""
    from paperlake.marts.builder import build_marts

    return build_marts(Lake.from_settings(settings), settings).to_dict()


def digest_stage(settings: Settings):
    """Compose the digest from the published marts and write its page to the lake; returns (Digest, page URI)."""
    import duckdb

    from paperlake.digest import compose_digest, publish_digest
    from paperlake.marts.builder import local_marts_path

    lake = Lake.from_settings(settings)
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        digest = compose_digest(con)
    return digest, publish_digest(lake, digest)


def ingest(settings: Settings, source: str, day: date, reparse: bool = False) -> list[dict]:
    """All ingest stages of one source and date, in DAG order; `reparse` rebuilds from `raw/` without fetching."""
    first = landed_raw_stage if reparse else fetch_stage
    return [stage(settings, source, day) for stage in (first, clean_stage, validate_stage, tag_stage)]
