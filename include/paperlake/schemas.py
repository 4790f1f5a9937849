"""Explicit pyarrow schemas of every lake layer, built from their columns in `paperlake.layer_columns`.
Changing one is a migration: bump SCHEMA_VERSION."""

from __future__ import annotations

import pyarrow as pa

from paperlake.layer_columns import LAYER_COLUMNS, PAPER_COLUMNS

SCHEMA_VERSION = 2

# The Arrow type of each DuckDB type the columns use.
ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "VARCHAR[]": pa.list_(pa.string()),
}


def _fields(columns: list[tuple[str, str]]) -> list[pa.Field]:
    return [pa.field(name, ARROW_TYPES[duckdb_type]) for name, duckdb_type in columns]


def _schema(layer: str) -> pa.Schema:
    # Parsed and cleaned, not yet validated, is `staged`: the validate stage splits it into clean + quarantine.
    return pa.schema(
        _fields(LAYER_COLUMNS[layer]),
        metadata={"paperlake.layer": layer, "paperlake.schema_version": str(SCHEMA_VERSION)},
    )


PAPER_FIELDS = _fields(PAPER_COLUMNS)
LAYER_SCHEMAS: dict[str, pa.Schema] = {layer: _schema(layer) for layer in LAYER_COLUMNS}
STAGED, CLEAN, QUARANTINE, ENTITIES = (LAYER_SCHEMAS[layer] for layer in ("staged", "clean", "quarantine", "entities"))
