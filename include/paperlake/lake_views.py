"""The lake in DuckDB: temporary `lake_<layer>` views over the committed (or, with `as_of`, the then-published) runs'
files, views over their JSON documents, and S3 access through the httpfs extension from its PyPI package. The marts
build reads the lake through them, and `paperlake shell` shows them."""

from __future__ import annotations

from datetime import datetime

from paperlake.commit import RUN_ID_PATTERN, current_commits
from paperlake.delta import check_migrated, published_files, published_runs
from paperlake.lake import RAW_MANIFEST, TAGGED_MANIFEST, VALIDATION_RESULT, Lake
from paperlake.layer_columns import LAYER_COLUMNS
from paperlake.marts.published import sql_literal

LAKE_LAYERS = ("parsed", "clean", "quarantine", "entities")


def connect_lake_views(
    con, lake: Lake, commits: dict | None = None, as_of: int | datetime | None = None, layers: tuple = LAKE_LAYERS
) -> None:
    """Temporary views `lake_<layer>` over every committed partition (with `source` and `date` columns), of the
    `layers` named (`clean` among them).

    The files are those the commits name (default: the current ones, read now): the same files the layers'
    Delta tables name once published. With `as_of` (a Delta version or a timestamp), the files each layer's
    Delta table named then (time travel), and the documents of the runs its clean table named.
    """
    lake.store.let_duckdb_read(con)
    create_lake_views(con, lake, commits, as_of, layers)


def create_lake_views(
    con, lake: Lake, commits: dict | None = None, as_of: int | datetime | None = None, layers: tuple = LAKE_LAYERS
) -> None:
    """The `lake_*` views of connect_lake_views on a connection that can already read the lake (httpfs loaded for
    S3); LakeNotMigrated while a layer lies under its former name."""
    check_migrated(lake, layers)
    if as_of is None:
        commits = current_commits(lake.store) if commits is None else commits
        runs = {key: commit.run_id for key, commit in commits.items()}
        layer_uris = {layer: [lake.uri(key) for key in lake.run_keys(layer, runs)] for layer in layers}
    else:
        layer_uris = {layer: published_files(lake, layer, as_of) for layer in layers}
        runs = published_runs(layer_uris["clean"])
    for layer, uris in layer_uris.items():
        create_files_view(con, f"lake_{layer}", layer, uris)
    register_partition_documents(con, lake, runs)


def create_layer_view(con, lake: Lake, view: str, layer: str, runs: dict) -> None:
    """Temporary view `view` over the layer's files of the partitions `runs` names ((source, date) -> run id), with
    `source` and `date` columns."""
    create_files_view(con, view, layer, [lake.uri(key) for key in lake.run_keys(layer, runs)])


def create_files_view(con, view: str, layer: str, uris: list[str]) -> None:
    """Temporary view `view` over a layer's Parquet files `uris` (with `source` and `date` columns from their paths)."""
    # The layer's columns with no rows, declared in SQL (registering an empty Arrow table would import pyarrow and
    # pandas).
    nulls = ", ".join(f"NULL::{duckdb_type} AS \"{name}\"" for name, duckdb_type in LAYER_COLUMNS[layer])
    source = f"(SELECT {nulls}, NULL::VARCHAR AS source, NULL::DATE AS date WHERE false)"
    if uris:
        files = ", ".join(sql_literal(uri) for uri in uris)
        # by name, beside the layer's empty table: a partition written before a nullable column was added reads it
        # as null
        parquet = (
            f"read_parquet([{files}], hive_partitioning = true, union_by_name = true, "
            "hive_types = {'source': VARCHAR, 'date': DATE})"
        )
        source = f"({source} UNION ALL BY NAME SELECT * FROM {parquet})"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {source}")


# A tagged sidecar holds a verdict per paper (~240 bytes each): beyond DuckDB's default 16 MB a JSON document is
# refused. 128 MB (~500,000 papers): reading a 24 MB sidecar peaked at 209 MB RSS; 1 << 30 overran MEMORY_LIMIT (DuckDB
# allocated 2 GB).
MAX_DOCUMENT_BYTES = 1 << 27
# DuckDB's default, for the small documents: the JSON reader sizes its buffers by the limit (at 128 MB, reading a
# 1M-paper lake's 2,000 raw manifests and validation results spilled 550 MB of a marts build).
SMALL_DOCUMENT_BYTES = 1 << 24

# The JSON documents beside the partitions, as views that read only what the marts use:
# view -> (layer, document, the keys read and their types, projection, the largest document read).
DOCUMENT_VIEWS = {
    "lake_raw": (
        "raw",
        RAW_MANIFEST,
        {"pages": "STRUCT(bytes BIGINT, fetched_at VARCHAR)[]"},
        "len(pages)::BIGINT AS pages, coalesce(list_sum(list_transform(pages, p -> p.bytes)), 0)::BIGINT AS bytes, "
        "list_max(list_transform(pages, p -> p.fetched_at)) AS fetched_at",
        SMALL_DOCUMENT_BYTES,
    ),
    "lake_validation": (
        "validation",
        VALIDATION_RESULT,
        {"gx_success": "BOOLEAN", "run_id": "VARCHAR", "airflow_run_id": "VARCHAR", "suite_version": "VARCHAR"},
        # the lake's run is the file's; a result written before issue 25 kept Airflow's id as its run_id
        f"gx_success AS validation_success, regexp_extract(filename, {sql_literal(RUN_ID_PATTERN.pattern)}, 1) AS "
        "run_id, "
        f"CASE WHEN run_id = regexp_extract(filename, {sql_literal(RUN_ID_PATTERN.pattern)}, 1) THEN airflow_run_id "
        "ELSE run_id END "
        "AS airflow_run_id, suite_version",
        SMALL_DOCUMENT_BYTES,
    ),
    # the domain gate's verdict on every paper the tag stage saw (none in a run tagged before the gate): a row each
    "lake_verdicts": (
        "entities",
        TAGGED_MANIFEST,
        {"verdicts": "STRUCT(paper_id VARCHAR, content_hash VARCHAR, ml_score DOUBLE, is_ml BOOLEAN)[]"},
        "unnest(verdicts, max_depth := 2)",
        MAX_DOCUMENT_BYTES,
    ),
}


def register_partition_documents(con, lake: Lake, runs: dict) -> None:
    """`lake_raw` (pages fetched), `lake_validation` (suite outcome, run id) and `lake_verdicts` (the domain gate's) of
    the runs `runs` maps each
    partition to: lazy views over their JSON documents, so nothing is read until a query uses them."""
    for view, (layer, name, keys, projection, max_bytes) in DOCUMENT_VIEWS.items():
        uris = [lake.uri(key) for key in lake.run_keys(layer, runs, name)]
        if uris:
            columns = "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(t)}" for k, t in keys.items()) + "}"
            source = (
                f"read_json([{', '.join(sql_literal(uri) for uri in uris)}], columns = {columns}, "
                f"hive_partitioning = true, hive_types = {{'source': VARCHAR, 'date': DATE}}, maximum_object_size = "
                f"{max_bytes}, "
                "filename = true)"
            )
        else:
            nulls = ", ".join(f"NULL::{t} AS {k}" for k, t in keys.items())
            source = (
                f"(SELECT NULL::VARCHAR AS source, NULL::DATE AS date, NULL::VARCHAR AS filename, {nulls} WHERE false)"
            )
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT source, date, {projection} FROM {source}")
