"""Explicit pyarrow schemas of every lake layer. Changing one is a migration: bump SCHEMA_VERSION."""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 2

_TS = pa.timestamp("us", tz="UTC")

PAPER_FIELDS = [
    pa.field("paper_id", pa.string()),
    pa.field("source_id", pa.string()),
    pa.field("version", pa.int32()),
    pa.field("title", pa.string()),
    pa.field("abstract", pa.string()),
    pa.field("title_raw", pa.string()),
    pa.field("abstract_raw", pa.string()),
    pa.field("authors", pa.list_(pa.string())),
    pa.field("categories", pa.list_(pa.string())),
    pa.field("primary_category", pa.string()),
    pa.field("published", _TS),
    pa.field("updated", _TS),
    pa.field("listed_at", _TS),
    pa.field("doi", pa.string()),
    pa.field("journal_ref", pa.string()),
    pa.field("comment", pa.string()),
    pa.field("abs_url", pa.string()),
    pa.field("pdf_url", pa.string()),
    pa.field("upvotes", pa.int32()),
    pa.field("github_repo", pa.string()),
    pa.field("keywords", pa.list_(pa.string())),
    # Why the source item could not be read (None when it could); such rows are quarantined as malformed_item.
    pa.field("parse_error", pa.string()),
    pa.field("urls", pa.list_(pa.string())),
    pa.field("content_hash", pa.string()),
    # paper_id of an earlier row in the partition with the same cleaned content under another id (kept, flagged).
    pa.field("content_duplicate_of", pa.string()),
    pa.field("record_index", pa.int32()),
]

# Parsed and cleaned, not yet validated: the validate stage splits it into clean + quarantine.
STAGED = pa.schema(PAPER_FIELDS, metadata={"paperlake.layer": "staged", "paperlake.schema_version": str(SCHEMA_VERSION)})
CLEAN = pa.schema(PAPER_FIELDS, metadata={"paperlake.layer": "clean", "paperlake.schema_version": str(SCHEMA_VERSION)})
QUARANTINE = pa.schema(
    PAPER_FIELDS
    + [
        pa.field("reason_codes", pa.list_(pa.string())),
        pa.field("reasons", pa.list_(pa.string())),
    ],
    metadata={"paperlake.layer": "quarantine", "paperlake.schema_version": str(SCHEMA_VERSION)},
)
ENTITIES = pa.schema(
    [
        pa.field("paper_id", pa.string()),
        pa.field("content_hash", pa.string()),
        pa.field("entity_id", pa.string()),
        pa.field("label", pa.string()),
        pa.field("text", pa.string()),
        pa.field("start_char", pa.int32()),
        pa.field("end_char", pa.int32()),
        pa.field("tagger_version", pa.string()),
        # The domain gate's verdict on the paper (`tagging/domain.py`), on each of its rows: its text score
        # (None without a classifier) and whether it is about ML. Null in partitions tagged before the gate.
        pa.field("ml_score", pa.float64()),
        pa.field("is_ml", pa.bool_()),
    ],
    metadata={"paperlake.layer": "entities", "paperlake.schema_version": str(SCHEMA_VERSION)},
)

LAYER_SCHEMAS: dict[str, pa.Schema] = {
    "staged": STAGED,
    "clean": CLEAN,
    "quarantine": QUARANTINE,
    "entities": ENTITIES,
}
