"""Read-only SQL on the published marts and the lake: the connections `paperlake sql` and `shell`, the page and the
search open, confined to what they may read, and the check that a statement only reads (DuckDB's own parse tree)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from paperlake.config import Settings
from paperlake.errors import PaperlakeError
from paperlake.marts.published import local_marts_path, sql_identifier, sql_literal


class QueryError(PaperlakeError):
    """A statement refused, failed or cancelled, or marts DuckDB cannot open: one line for the user."""


QUERIES = "only queries run (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)"


# Table functions a query may call: file readers (confined to what the connection may open), series and
# catalog listings. The others are refused: some change state although called in a SELECT
# (enable_logging writes files, query() and json_execute_serialized_sql run SQL text, arrow_scan reads memory).
READ_TABLE_FUNCTIONS = frozenset(
    "read_parquet parquet_scan parquet_metadata parquet_schema parquet_file_metadata parquet_kv_metadata "
    "read_csv read_csv_auto sniff_csv read_json read_json_auto read_ndjson read_ndjson_auto read_json_objects "
    "read_json_objects_auto read_ndjson_objects read_text read_blob glob range generate_series unnest json_each "
    "json_tree pragma_table_info pragma_show pragma_version pragma_database_size duckdb_tables duckdb_views "
    "duckdb_columns duckdb_schemas duckdb_databases duckdb_types duckdb_functions duckdb_constraints "
    "duckdb_indexes duckdb_keywords duckdb_settings".split()
)


# Whether DuckDB could parse a SELECT, and the names of the table functions it calls with how many calls there are,
# read by DuckDB from its own parse tree: its JSON path `$..` walks a tree of any depth (a Python walk of a query
# nested ~500 deep overflows the recursion limit), and the query goes in as a literal, as binding a parameter
# imports pandas (0.4 s on every `paperlake sql`).
TABLE_FUNCTIONS_SQL = (
    "SELECT tree->>'error' = 'true', tree->>'error_message', "
    "coalesce(json_extract_string(tree, '$..function.function_name'), []), "
    "len(list_filter(json_extract_string(tree, '$..type'), t -> t = 'TABLE_FUNCTION')) "
    "FROM (SELECT json_serialize_sql({})::JSON AS tree)"
)


# (a pattern compiled when first used, by an EXPLAIN: compiling it on import cost every `paperlake sql` ~0.3 ms)
EXPLAIN_PREFIX = r"\s*EXPLAIN\s+(?:ANALY[SZ]E\s+|\([^)]*\)\s*)?"


def open_marts_readonly(settings: Settings):
    """A read-only DuckDB connection on the published marts that cannot open any other file."""
    import duckdb

    from paperlake.storage import open_store

    # FileNotFoundError: main() reports it
    path = local_marts_path(open_store(settings.lake_url, settings.s3), settings)
    with damaged_marts(path):
        con = duckdb.connect(str(path), read_only=True)
    confine(con, [])
    return con


@contextmanager
def damaged_marts(path: Path):
    """A marts file DuckDB cannot open (overwritten, truncated) as one line saying how to rebuild it."""
    import duckdb

    try:
        yield
    except duckdb.Error as err:
        reason = str(err).splitlines()[0]
        raise QueryError(
            f"the marts file {path} cannot be opened ({reason}); rebuild it with `paperlake marts --full`"
        ) from None


def confine(con, readable: list[str]) -> None:
    """Let `con` open only its attached databases and files below `readable` (folders, URL prefixes); lock it."""
    if readable:
        con.execute(f"SET allowed_directories = [{', '.join(sql_literal(root) for root in readable)}]")
    # Else DuckDB adds its spill folder (./.tmp for an in-memory database) to what may be opened.
    con.execute("SET temp_directory = ''")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def read_only_statements(con, sql: str) -> list[str]:
    """The statements of `sql` as DuckDB's parser splits them, once every one is known to only read."""
    statements = con.extract_statements(sql)  # a duckdb.ParserException: sql_errors() reports it
    for statement in statements:
        reason = write_risk(con, statement)
        if reason:
            raise QueryError(f"refused: the marts are read-only here; {QUERIES}, not {reason}")
    return [statement.query for statement in statements]


def write_risk(con, statement) -> str | None:
    """What in a parsed statement could change something (its type or a table function); None if it only reads."""
    import duckdb

    if statement.type == duckdb.StatementType.EXPLAIN:
        statement = explained_statement(con, statement.query)  # EXPLAIN ANALYZE runs it
        if statement is None:
            return "EXPLAIN of anything but one statement"
    if statement.type != duckdb.StatementType.SELECT:
        return statement.type.name

    failed, message, names, calls = con.execute(TABLE_FUNCTIONS_SQL.format(sql_literal(statement.query))).fetchone()
    if failed:
        return f"a query DuckDB cannot check ({message})"
    if len(names) != calls:  # a table function called by something else than a name: nothing to check it against
        return "a table function this check cannot name"
    risky = sorted({name.lower() for name in names} - READ_TABLE_FUNCTIONS)
    return f"the table function {risky[0]}()" if risky else None


def explained_statement(con, text: str):
    """The one statement an `EXPLAIN [ANALYZE]` text plans or runs; None when that is not exactly one statement."""
    import duckdb

    prefix = re.match(EXPLAIN_PREFIX, text, re.IGNORECASE)
    try:
        inner = con.extract_statements(text[prefix.end() :]) if prefix else []
    except duckdb.Error:
        return None
    return inner[0] if len(inner) == 1 else None


@contextmanager
def sql_errors():
    """DuckDB errors as one-line QueryErrors: `refused: ...` for a file out of reach, else `SQL error: ...`."""
    import duckdb

    try:
        yield
    except duckdb.Error as err:
        first_line = str(err).splitlines()[0]
        if isinstance(err, duckdb.PermissionException):
            raise QueryError(f"refused: outside what may be read here ({first_line})") from None
        raise QueryError(f"SQL error: {first_line}") from None


def open_shell_connection(settings: Settings, as_of=None):
    """The marts opened read-only (as open_marts_readonly opens them), the lake's layers as temporary `lake_*` views
    (as of a Delta version or timestamp if given), and file access confined to the lake."""
    con, create_lake_views = open_marts_shell(settings, as_of)
    create_lake_views()
    return con


def open_marts_shell(settings: Settings, as_of=None):
    """The connection of open_shell_connection, confined, before its `lake_*` views exist; and the function creating
    them (reading the lake's commits or Delta logs), for the shell to call before the first statement that may read
    them.

    One database, the marts file itself: an in-memory database with the file attached cost a fresh shell's point
    query ~20M more instructions (callgrind), and the views are temporary, which a read-only database holds."""
    import duckdb

    from paperlake.storage import open_store

    store = open_store(settings.lake_url, settings.s3)
    path = local_marts_path(store, settings)
    with damaged_marts(path):
        con = duckdb.connect(str(path), read_only=True)
    store.let_duckdb_read(con)  # before the lock: LOAD and CREATE SECRET are refused after it
    confine(con, [store.uri("")])

    created = []

    def create_lake_views() -> None:
        """Create the `lake_*` views, once (later calls do nothing)."""
        if not created:
            from paperlake.lake import Lake
            from paperlake.lake_views import create_lake_views

            create_lake_views(con, Lake(store), as_of=as_of)
            created.append(True)

    return con, create_lake_views


# The tables, views and schemas a statement names, from DuckDB's parse tree (as TABLE_FUNCTIONS_SQL reads it), and
# the marts' catalog name (the connection's database: the file's name).
TABLE_REFERENCES_SQL = (
    "SELECT current_database(), coalesce(json_extract_string(tree, '$..table_name'), []), "
    "coalesce(json_extract_string(tree, '$..schema_name'), []) || coalesce(json_extract_string(tree, "
    "'$..catalog_name'), []), "
    "len(list_filter(json_extract_string(tree, '$..type'), t -> t = 'TABLE_FUNCTION')) "
    "FROM (SELECT json_serialize_sql({})::JSON AS tree)"
)


def reads_only_marts(con, statement: str) -> bool:
    """Whether a read-only statement names nothing but the marts' own tables and views (no schema, no table function,
    no catalog listing, no `lake_*` view): then it answers the same before the `lake_*` views exist."""
    import duckdb

    parsed = con.extract_statements(statement)
    if len(parsed) != 1 or parsed[0].type != duckdb.StatementType.SELECT:
        return False
    marts, names, qualifiers, table_functions = con.execute(
        TABLE_REFERENCES_SQL.format(sql_literal(statement))
    ).fetchone()
    return not table_functions and not any(qualifiers) and names_marts_relations(con, marts, names)


def names_marts_relations(con, marts: str, names: list[str]) -> bool:
    """Whether every name is a table or view of the catalog `marts` (its `main` schema): a query naming them all binds.

    Binding looks up only these names (listing the marts' tables with duckdb_tables() loads every table's storage
    metadata: ~4 ms of a fresh shell's point query), and reads no row."""
    import duckdb

    if not names:
        return True
    relations = ", ".join(f"{sql_identifier(marts)}.main.{sql_identifier(name)}" for name in sorted(set(names)))
    try:
        con.execute(f"SELECT 1 FROM {relations} LIMIT 0")
    except duckdb.Error:  # a name DuckDB does not find there (or a marts view that cannot bind): not the marts alone
        return False
    return True
