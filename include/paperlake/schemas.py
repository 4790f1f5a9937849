"""Explicit pyarrow schemas of every lake layer, built from their columns in `paperlake.layer_columns`.
Changing one is a migration: bump SCHEMA_VERSION.

The schemas are built on first use (`schemas.CLEAN`, `schemas.LAYER_SCHEMAS`), not on import: modules that
write a layer import this one at their top, and importing them (a DAG file parsing) must not load pyarrow."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from paperlake.layer_columns import LAYER_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 2

# The module attributes built on first use: name -> the layer whose schema it is.
LAYER_CONSTANTS = {"PARSED": "parsed", "CLEAN": "clean", "QUARANTINE": "quarantine", "ENTITIES": "entities"}


@cache
def arrow_types() -> dict[str, pa.DataType]:
    """The Arrow type of each DuckDB type the columns use."""
    import pyarrow as pa

    return {
        "VARCHAR": pa.string(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
        "VARCHAR[]": pa.list_(pa.string()),
    }


def _fields(columns: list[tuple[str, str]]) -> list[pa.Field]:
    import pyarrow as pa

    return [pa.field(name, arrow_types()[duckdb_type]) for name, duckdb_type in columns]


@cache
def layer_schemas() -> dict[str, pa.Schema]:
    """layer -> its Arrow schema (`parsed`: every record parsed and cleaned, not yet validated; the validate stage
    splits it into clean + quarantine)."""
    import pyarrow as pa

    return {
        layer: pa.schema(
            _fields(columns), metadata={"paperlake.layer": layer, "paperlake.schema_version": str(SCHEMA_VERSION)}
        )
        for layer, columns in LAYER_COLUMNS.items()
    }


def __getattr__(name: str):
    """LAYER_SCHEMAS, PARSED, CLEAN, QUARANTINE and ENTITIES, built when first read."""
    if name == "LAYER_SCHEMAS":
        return layer_schemas()
    if name in LAYER_CONSTANTS:
        return layer_schemas()[LAYER_CONSTANTS[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
