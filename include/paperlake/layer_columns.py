"""The columns of every lake layer as (name, DuckDB type): what `paperlake.schemas` builds the layers' pyarrow
schemas from, readable without pyarrow (the shell's `lake_*` views are declared from it)."""

from __future__ import annotations

PAPER_COLUMNS = [
    ("paper_id", "VARCHAR"),
    ("source_id", "VARCHAR"),
    ("version", "INTEGER"),
    ("title", "VARCHAR"),
    ("abstract", "VARCHAR"),
    ("title_raw", "VARCHAR"),
    ("abstract_raw", "VARCHAR"),
    ("authors", "VARCHAR[]"),
    ("categories", "VARCHAR[]"),
    ("primary_category", "VARCHAR"),
    ("published", "TIMESTAMPTZ"),
    ("updated", "TIMESTAMPTZ"),
    ("listed_at", "TIMESTAMPTZ"),
    ("doi", "VARCHAR"),
    ("journal_ref", "VARCHAR"),
    ("comment", "VARCHAR"),
    ("abs_url", "VARCHAR"),
    ("pdf_url", "VARCHAR"),
    ("upvotes", "INTEGER"),
    ("github_repo", "VARCHAR"),
    ("keywords", "VARCHAR[]"),
    # Why the source item could not be read (None when it could); such rows are quarantined as malformed_item.
    ("parse_error", "VARCHAR"),
    ("urls", "VARCHAR[]"),
    ("content_hash", "VARCHAR"),
    # paper_id of an earlier row in the partition with the same cleaned content under another id (kept, flagged).
    ("content_duplicate_of", "VARCHAR"),
    ("record_index", "INTEGER"),
]

ENTITY_COLUMNS = [
    ("paper_id", "VARCHAR"),
    ("content_hash", "VARCHAR"),
    ("entity_id", "VARCHAR"),
    ("label", "VARCHAR"),
    ("text", "VARCHAR"),
    ("start_char", "INTEGER"),
    ("end_char", "INTEGER"),
    ("tagger_version", "VARCHAR"),
    # The domain gate's verdict on the paper (`tagging/domain.py`), on each of its rows: its text score
    # (None without a classifier) and whether it is about ML. Null in partitions tagged before the gate.
    ("ml_score", "DOUBLE"),
    ("is_ml", "BOOLEAN"),
]

LAYER_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "parsed": PAPER_COLUMNS,
    "clean": PAPER_COLUMNS,
    "quarantine": PAPER_COLUMNS + [("reason_codes", "VARCHAR[]"), ("reasons", "VARCHAR[]")],
    "entities": ENTITY_COLUMNS,
}
# The layers that are tables (each also a Delta table, `paperlake.delta`).
TABLE_LAYERS = tuple(LAYER_COLUMNS)
# Former layer name -> today's: what commits written before a rename name a layer (read as today's), and the folders
# `paperlake migrate` moves.
RENAMED_LAYERS = {"staged": "parsed"}
