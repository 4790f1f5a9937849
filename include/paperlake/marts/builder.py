"""Build the marts into a fresh DuckDB file, check it, and publish it over the old one atomically."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from paperlake.config import Settings
from paperlake.lake import RAW_MANIFEST, TABLE_FILE, VALIDATION_RESULT, Lake
from paperlake.storage import S3Store

SQL_DIR = Path(__file__).parent / "sql"
MARTS_KEY = "marts/paperlake.duckdb"
LAKE_LAYERS = ("staged", "clean", "quarantine", "entities")
# Keys every mart must keep unique; a violation fails the build before anything is published.
UNIQUE_KEYS = {
    "papers": ("paper_id",),
    "paper_entities": ("paper_id", "entity_id", "label"),
    "entity_counts": ("entity_id", "label"),
    "entities": ("entity_id", "label"),
    "entity_daily": ("date", "entity_id", "label"),
    "trending_entities": ("entity_id", "label"),
    "trending_papers": ("paper_id",),
    "entity_cooccurrence": ("entity_id", "label", "other_entity_id", "other_label"),
    "pipeline_health": ("source", "date"),
}
TRENDING_MIN_SUPPORT = 2


class MartCheckFailed(RuntimeError):
    """A freshly built marts file failed its checks and was not published."""


@dataclass(frozen=True)
class MartsSummary:
    uri: str
    tables: dict[str, int]

    def to_dict(self) -> dict:
        return {"uri": self.uri, "tables": dict(self.tables)}


def sql_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal (for statements DuckDB cannot parameterise)."""
    return "'" + text.replace("'", "''") + "'"


def connect_lake_views(con, lake: Lake, settings: Settings, commits: dict | None = None) -> None:
    """Temporary views `lake_<layer>` over every committed partition (with `source` and `date` columns)."""
    if isinstance(lake.store, S3Store):
        enable_s3(con, settings)
    from paperlake.commit import current_commits
    from paperlake.schemas import LAYER_SCHEMAS

    commits = current_commits(lake.store) if commits is None else commits
    for layer in LAKE_LAYERS:
        uris = [lake.uri(key) for key in lake.committed_keys(layer, commits=commits)]
        if uris:
            files = ", ".join(sql_literal(uri) for uri in uris)
            source = (
                f"read_parquet([{files}], hive_partitioning = true, "
                f"hive_types = {{'source': VARCHAR, 'date': DATE}})"
            )
        else:
            con.register(f"empty_{layer}", LAYER_SCHEMAS[layer].empty_table())
            source = f"(SELECT *, NULL::VARCHAR AS source, NULL::DATE AS date FROM empty_{layer})"
        con.execute(f"CREATE OR REPLACE TEMP VIEW lake_{layer} AS SELECT * FROM {source}")
    register_partition_documents(con, lake, commits)


# The JSON documents beside the partitions, as views that read only what the marts use:
# view -> (layer, document, the keys read and their types, projection).
DOCUMENT_VIEWS = {
    "lake_raw": (
        "raw", RAW_MANIFEST, {"pages": "STRUCT(bytes BIGINT, fetched_at VARCHAR)[]"},
        "len(pages)::BIGINT AS pages, coalesce(list_sum(list_transform(pages, p -> p.bytes)), 0)::BIGINT AS bytes, "
        "list_max(list_transform(pages, p -> p.fetched_at)) AS fetched_at",
    ),
    "lake_validation": (
        "validation", VALIDATION_RESULT, {"gx_success": "BOOLEAN", "run_id": "VARCHAR", "suite_version": "VARCHAR"},
        "gx_success AS validation_success, run_id, suite_version",
    ),
}


def register_partition_documents(con, lake: Lake, commits: dict) -> None:
    """`lake_raw` (pages fetched) and `lake_validation` (suite outcome, run id): lazy views over their
    JSON documents, so nothing is read until a query uses them."""
    for view, (layer, name, keys, projection) in DOCUMENT_VIEWS.items():
        uris = [lake.uri(key) for key in lake.committed_keys(layer, name, commits)]
        if uris:
            columns = "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(t)}" for k, t in keys.items()) + "}"
            source = (
                f"read_json([{', '.join(sql_literal(uri) for uri in uris)}], columns = {columns}, "
                f"hive_partitioning = true, hive_types = {{'source': VARCHAR, 'date': DATE}})"
            )
        else:
            nulls = ", ".join(f"NULL::{t} AS {k}" for k, t in keys.items())
            source = f"(SELECT NULL::VARCHAR AS source, NULL::DATE AS date, {nulls} WHERE false)"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT source, date, {projection} FROM {source}")


def enable_s3(con, settings: Settings) -> None:
    """Load the httpfs extension from its PyPI package (no download) and register S3 credentials."""
    import boto3
    from duckdb_extensions import import_extension

    import_extension("httpfs", con=con)
    con.execute("LOAD httpfs")
    s3 = settings.s3
    key, secret = s3.access_key_id, s3.secret_access_key
    if not (key and secret):
        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise RuntimeError("no S3 credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an Airflow aws connection")
        frozen = credentials.get_frozen_credentials()
        key, secret = frozen.access_key, frozen.secret_key
    params = {"KEY_ID": key, "SECRET": secret, "REGION": s3.region}
    if s3.endpoint_url:
        endpoint = urlparse(s3.endpoint_url)
        params |= {"ENDPOINT": endpoint.netloc, "URL_STYLE": "path", "USE_SSL": endpoint.scheme == "https"}
    con.execute(
        "CREATE OR REPLACE TEMPORARY SECRET paperlake_s3 (TYPE s3, "
        + ", ".join(f"{k} {v}" if isinstance(v, bool) else f"{k} {sql_literal(str(v))}" for k, v in params.items())
        + ")"
    )


def latest_partition_date(commits: dict) -> date | None:
    """The newest committed partition date (read from the commits, no data scanned)."""
    return max((day for _, day in commits), default=None)


def mart_sql_files() -> list[Path]:
    """The mart definitions in build (name) order."""
    return sorted(SQL_DIR.glob("*.sql"))


def build_marts_file(path: Path, lake: Lake, settings: Settings, reference_date: date | None = None) -> dict[str, int]:
    """Build every mart into a new DuckDB file at `path`; returns rows per table after checks.

    Trends are computed as of `reference_date` (default: the latest date in the lake).
    """
    import duckdb

    from paperlake.commit import current_commits

    con = duckdb.connect(str(path))
    try:
        commits = current_commits(lake.store)
        connect_lake_views(con, lake, settings, commits)
        reference = reference_date or latest_partition_date(commits)
        con.execute("SET VARIABLE reference_date = ?::DATE", [reference])
        con.execute("SET VARIABLE min_support = ?", [TRENDING_MIN_SUPPORT])
        for sql_file in mart_sql_files():
            try:
                con.execute(sql_file.read_text())
            except duckdb.Error as err:
                raise MartCheckFailed(f"mart {sql_file.name} failed: {err}") from err
        return check_marts(con)
    finally:
        con.close()


def check_marts(con) -> dict[str, int]:
    """Row counts per mart; raises MartCheckFailed on duplicate keys or empty marts over a non-empty lake."""
    counts = {}
    for table, key in UNIQUE_KEYS.items():
        cols = ", ".join(key)
        total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({cols})) FROM {table}").fetchone()
        if total != distinct:
            raise MartCheckFailed(f"mart {table}: {total - distinct} duplicate keys on ({cols})")
        counts[table] = total
    clean_rows = con.execute("SELECT count(*) FROM lake_clean").fetchone()[0]
    if clean_rows and not counts["papers"]:
        raise MartCheckFailed(f"mart papers is empty although the lake has {clean_rows} clean rows")
    return counts


def build_marts(lake: Lake, settings: Settings, reference_date: date | None = None) -> MartsSummary:
    """Rebuild the marts from the lake, replace the published file in one atomic step, export each mart as Parquet."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="paperlake-marts-") as tmp:
        path = Path(tmp) / "paperlake.duckdb"
        counts = build_marts_file(path, lake, settings, reference_date)
        lake.store.put_file(MARTS_KEY, path)
        with duckdb.connect(str(path), read_only=True) as con:
            for table in counts:
                export = Path(tmp) / f"{table}.parquet"
                con.execute(f"COPY {table} TO {sql_literal(str(export))} (FORMAT parquet)")
                lake.store.put_file(f"marts/{table}/{TABLE_FILE}", export)
    return MartsSummary(uri=lake.uri(MARTS_KEY), tables=counts)


def local_marts_path(lake: Lake, settings: Settings) -> Path:
    """A local path to the published marts file: the file itself, or a fresh copy from S3."""
    if isinstance(lake.store, S3Store):
        path = settings.home / "cache" / "paperlake.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            lake.store.get_file(MARTS_KEY, path)
        except FileNotFoundError:
            raise FileNotFoundError(f"no marts at {lake.uri(MARTS_KEY)}; build them with `paperlake marts`") from None
        return path
    path = Path(lake.uri(MARTS_KEY))
    if not path.is_file():
        raise FileNotFoundError(f"no marts at {path}; build them with `paperlake marts` (or `make run`)")
    return path
