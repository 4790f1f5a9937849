"""`paperlake` command: run a source/date locally, rebuild the marts, query them, summarise a run."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from paperlake.config import Settings
from paperlake.layer_columns import TABLE_LAYERS

EXAMPLE_SQL = "SELECT entity_id, label, n_papers FROM entity_counts ORDER BY n_papers DESC LIMIT 5"
DEFAULT_MAX_ROWS = 1000
SEARCH_MAX_LIMIT = 1000
FETCH_ROWS = 10_000  # rows per fetch when streaming CSV/JSON: memory stays flat whatever the result's size
PARQUET_BATCH_ROWS = 100_000  # rows per Arrow record batch, each written as one Parquet row group
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
EXPLAIN_PREFIX = re.compile(r"\s*EXPLAIN\s+(?:ANALY[SZ]E\s+|\([^)]*\)\s*)?", re.IGNORECASE)
VERBOSE_HELP = "on a failure, print the traceback as well as the one-line message"
AS_OF_HELP = (
    "read the lake_* views as of a Delta version or a timestamp (time travel; see `paperlake history`); "
    "with sql, the query then also sees the lake_* views"
)
MAX_ROWS_HELP = f"rows shown as a table (default {DEFAULT_MAX_ROWS}); `sql --format csv|json|parquet` writes every row"


class CliError(Exception):
    """An error shown to the user as one line, without a traceback."""


def parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-26") from None
    if day == date.max:  # a partition covers [day, day + 1): its end must be a date too
        raise argparse.ArgumentTypeError(f"{text!r} is past the last date a partition can cover ({date.max - timedelta(days=1)})")
    return day


def cmd_ingest(args, settings: Settings) -> None:
    from paperlake.pipeline import ingest

    *stages, commit = ingest(settings, args.source, args.date, reparse=args.command == "reparse", allow_shrink=args.allow_shrink)
    for summary in stages:
        print(f"{summary['layer']:<9} {summary['rows']:>7} rows  {summary['uri']}")
    print(f"committed run {commit['run_id']} as generation {commit['generation']} of source={args.source} date={args.date}")


def cmd_marts(args, settings: Settings) -> None:
    from paperlake.pipeline import marts_stage, search_index_stage

    summary = marts_stage(settings, full=args.full)
    for table, rows in summary["tables"].items():
        print(f"{table:<16} {rows:>7} rows")
    print(f"published {summary['uri']} ({summary['build']} build, {summary['partitions']} partitions recomputed)")
    index = search_index_stage(settings, full=args.full)
    print(f"search index {index['uri']}: {index['build']} ({index['indexed']} papers indexed, {index['removed']} removed, {index['papers']} in all)")


def open_marts_readonly(settings: Settings):
    """A read-only DuckDB connection on the published marts that cannot open any other file."""
    import duckdb

    from paperlake.marts.published import local_marts_path
    from paperlake.storage import open_store

    path = local_marts_path(open_store(settings.lake_url, settings.s3), settings)  # FileNotFoundError: main() reports it
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
        raise CliError(f"the marts file {path} cannot be opened ({reason}); rebuild it with `paperlake marts --full`") from None


def confine(con, readable: list[str]) -> None:
    """Let `con` open only its attached databases and files below `readable` (folders, URL prefixes); lock it."""
    from paperlake.marts.published import sql_literal

    if readable:
        con.execute(f"SET allowed_directories = [{', '.join(sql_literal(root) for root in readable)}]")
    # Else DuckDB adds its spill folder (./.tmp for an in-memory database) to what may be opened.
    con.execute("SET temp_directory = ''")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def forget_s3_environment(con) -> None:
    """Blank the S3 credentials httpfs copies from the AWS_* variables into its settings when it loads, where
    `current_setting()` and `duckdb_settings()` would show them; the lake is read through a secret instead."""
    for setting in ("s3_access_key_id", "s3_secret_access_key", "s3_session_token"):
        con.execute(f"SET {setting} = ''")


def read_only_statements(con, sql: str) -> list[str]:
    """The statements of `sql` as DuckDB's parser splits them, once every one is known to only read."""
    statements = con.extract_statements(sql)  # a duckdb.ParserException: sql_errors() reports it
    for statement in statements:
        reason = write_risk(con, statement)
        if reason:
            raise CliError(f"refused: the marts are read-only here; {QUERIES}, not {reason}")
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
    from paperlake.marts.published import sql_literal

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

    prefix = EXPLAIN_PREFIX.match(text)
    try:
        inner = con.extract_statements(text[prefix.end() :]) if prefix else []
    except duckdb.Error:
        return None
    return inner[0] if len(inner) == 1 else None


@contextmanager
def sql_errors():
    """DuckDB errors as one-line CliErrors: `refused: ...` for a file out of reach, else `SQL error: ...`."""
    import duckdb

    try:
        yield
    except duckdb.Error as err:
        first_line = str(err).splitlines()[0]
        if isinstance(err, duckdb.PermissionException):
            raise CliError(f"refused: outside what may be read here ({first_line})") from None
        raise CliError(f"SQL error: {first_line}") from None


def column_names(cursor) -> list[str]:
    return [d[0] for d in cursor.description]


def fetch_batches(cursor):
    """The cursor's rows in lists of FETCH_ROWS, fetched as DuckDB produces them."""
    while rows := cursor.fetchmany(FETCH_ROWS):
        yield rows


def write_csv(cursor, out) -> int:
    """Header and rows as CSV, written batch by batch; returns the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(column_names(cursor))
    count = 0
    for rows in fetch_batches(cursor):
        writer.writerows(rows)
        count += len(rows)
    return count


def write_json(cursor, out) -> int:
    """One JSON array of an object per row, written batch by batch; returns the row count."""
    import json  # here, as in cmd_search: a query printed as a table needs no json (a fresh process pays ~1 ms for it)

    columns = column_names(cursor)
    encode = json.JSONEncoder(default=str).encode  # one encoder: json.dumps(default=...) builds one per call
    count = 0
    out.write("[")
    for rows in fetch_batches(cursor):
        out.write(("," if count else "") + "\n  " + ",\n  ".join(encode(dict(zip(columns, row))) for row in rows))
        count += len(rows)
    out.write("\n]\n" if count else "]\n")
    return count


def write_table(cursor, out, max_rows: int) -> int:
    """At most `max_rows` rows as an aligned table, with a note when the result has more; returns the rows shown."""
    rows = cursor.fetchmany(max_rows + 1)
    shown = rows[:max_rows]
    footer = rows_note(len(shown)) if len(rows) <= max_rows else (
        f"(only the first {max_rows} rows are shown: the result has more; raise --max-rows, or write every row "
        "with `paperlake sql QUERY --format csv|json|parquet --output FILE`)"
    )
    out.write(format_table(column_names(cursor), shown, footer) + "\n")
    return len(shown)


def write_parquet(cursor, output: str) -> int:
    """The result as a Parquet file, written one record batch (row group) at a time; returns the row count."""
    import pyarrow.parquet as pq

    reader = cursor.to_arrow_reader(PARQUET_BATCH_ROWS)
    count = 0
    with pq.ParquetWriter(output, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            count += batch.num_rows
    return count


def run_statement(con, statement: str, write, timeout: float | None):
    """`write(cursor)` for the statement's result; the statement is cancelled after `timeout` seconds
    (PAPERLAKE_SQL_TIMEOUT; None: no limit) or by Ctrl-C, as a one-line CliError."""
    import threading

    import duckdb

    timed_out = threading.Event()
    timer = threading.Timer(timeout or 0, lambda: (timed_out.set(), con.interrupt()))
    timer.daemon = True
    if timeout:
        timer.start()
    try:
        return write(con.execute(statement))
    except (KeyboardInterrupt, duckdb.InterruptException, RuntimeError) as err:
        # Ctrl-C while DuckDB runs is its RuntimeError "Query interrupted"; while Python runs, KeyboardInterrupt.
        if isinstance(err, RuntimeError) and "interrupted" not in str(err).lower():
            raise
        con.interrupt()
        if timed_out.is_set():
            raise CliError(f"cancelled: the statement ran longer than PAPERLAKE_SQL_TIMEOUT ({timeout:g} s)") from None
        raise CliError("cancelled (Ctrl-C)") from None
    finally:
        timer.cancel()


def write_result(cursor, fmt: str, output: str | None, max_rows: int) -> None:
    """Stream a query's result to `output` (or stdout) in `fmt`; with an output file, say how many rows it got."""
    if fmt == "parquet":
        count = write_parquet(cursor, output)
    else:
        with open(output, "w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout) as out:
            if fmt == "csv":
                count = write_csv(cursor, out)
            elif fmt == "json":
                count = write_json(cursor, out)
            else:
                count = write_table(cursor, out, max_rows)
    if output:
        print(f"wrote {count} rows to {output}")


def format_table(columns: list[str], rows: list[tuple], footer: str, max_width: int = 60) -> str:
    """Rows as an aligned text table ending with `footer`."""
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    lines.append(footer)
    return "\n".join(lines)


def rows_note(count: int) -> str:
    return f"({count} row{'s' if count != 1 else ''})"


def _cell(value, max_width: int) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def cmd_sql(args, settings: Settings) -> None:
    if (args.query is None) == (args.file is None):
        raise CliError("give either a query or --file query.sql")
    if args.format == "parquet" and not args.output:
        raise CliError("--format parquet needs --output PATH")
    sql = args.query if args.query is not None else Path(args.file).read_text(encoding="utf-8")
    if args.output:
        refuse_output_in_lake(Path(args.output), settings)
    con = open_marts_readonly(settings) if args.as_of is None else open_shell_connection(settings, args.as_of)
    try:
        with sql_errors():
            statements = read_only_statements(con, sql)
            if len(statements) != 1:
                raise CliError(f"SQL error: give one statement, not {len(statements)}")
            write = partial(write_result, fmt=args.format, output=args.output, max_rows=args.max_rows)
            run_statement(con, statements[0], write, settings.sql_timeout)
    finally:
        con.close()


def refuse_output_in_lake(output: Path, settings: Settings) -> None:
    """CliError when `output` is inside the local lake or paperlake's cache (the marts and their local copy live there)."""
    from paperlake.lake import Lake
    from paperlake.storage import LocalStore

    store = Lake.from_settings(settings).store
    guarded = [settings.home / "cache"] + ([store.root] if isinstance(store, LocalStore) else [])
    target = output.resolve()
    for folder in guarded:
        if target.is_relative_to(folder.resolve()):
            raise CliError(f"refused: --output {output} is inside {folder}, which paperlake manages; write the result elsewhere")


def cmd_search(args, settings: Settings) -> None:
    import json

    from paperlake.search import SearchFilters, open_search, search

    filters = SearchFilters(entity=args.entity, label=args.label, since=args.since, until=args.until, source=args.source)
    con = open_search(settings)
    try:
        page = search(con, args.query, filters, size=args.limit)
    finally:
        con.close()
    rows = [(hit.score, hit.date, hit.paper_id, hit.title, hit.snippet, ", ".join(hit.entities)) for hit in page.rows]
    columns = ["score", "date", "paper_id", "title", "snippet", "entities"]
    if args.format == "table":
        more = "" if page.total == len(rows) else f"; the best {len(rows)} shown, raise --limit for more"
        print(format_table(columns, rows, f"({page.total} matching papers{more})", max_width=args.width))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        records = [dict(zip(columns, row)) | {"entities": hit.entities, "abs_url": hit.abs_url} for row, hit in zip(rows, page.rows)]
        print(json.dumps({"query": args.query, "total": page.total, "results": records}, default=str, indent=2))


def open_shell_connection(settings: Settings, as_of=None):
    """In-memory DuckDB with the marts attached read-only (as the default schema), the lake's layers as `lake_*`
    views (as of a Delta version or timestamp if given), and file access confined to the lake."""
    import duckdb

    from paperlake.lake import Lake
    from paperlake.lake_views import connect_lake_views
    from paperlake.marts.published import local_marts_path, sql_literal
    from paperlake.storage import S3Store

    lake = Lake.from_settings(settings)
    path = local_marts_path(lake, settings)
    con = duckdb.connect()
    with damaged_marts(path):
        con.execute(f"ATTACH {sql_literal(str(path))} AS marts (READ_ONLY)")
    connect_lake_views(con, lake, settings, as_of=as_of)
    if isinstance(lake.store, S3Store):  # connect_lake_views loaded httpfs
        forget_s3_environment(con)
    con.execute("USE marts")
    confine(con, [lake.uri("")])
    return con


def run_shell(con, stdin, stdout, max_rows: int = DEFAULT_MAX_ROWS, timeout: float | None = None) -> None:
    """Read statements ending in `;` and print their results; `.tables` lists tables, `.quit` or EOF leaves.
    Ctrl-C cancels the running statement (or the one being typed) and the shell goes on."""
    stdout.write(
        "paperlake shell: queries on the marts and the lake_* views (nothing else can be read or written); "
        "end statements with ';', .quit to leave\n"
    )
    buffer = ""
    while True:
        stdout.write("paperlake> " if not buffer else "      ...> ")
        stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            stdout.write("\n")
            buffer = ""
            continue
        if not line or line.strip() in (".quit", ".exit"):
            break
        if not buffer and line.strip() == ".tables":
            line = "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2;"
        buffer += line
        if buffer.rstrip().endswith(";"):
            try:
                with sql_errors():
                    for statement in read_only_statements(con, buffer):
                        run_statement(con, statement, partial(write_table, out=stdout, max_rows=max_rows), timeout)
            except CliError as err:
                stdout.write(f"{err}\n")
            buffer = ""
    stdout.write("\n")


def cmd_shell(args, settings: Settings) -> None:
    con = open_shell_connection(settings, args.as_of)
    try:
        run_shell(con, sys.stdin, sys.stdout, args.max_rows, settings.sql_timeout)
    finally:
        con.close()


def cmd_summary(args, settings: Settings) -> None:
    from paperlake.lake import Lake
    from paperlake.marts.published import MARTS_KEY

    lake = Lake.from_settings(settings)
    print(f"lake: {lake.url}")
    print(f"rows for {args.date} per layer (sources with data for that date):")
    for source in settings.sources:
        counts = {layer: _partition_rows(lake, layer, source, args.date) for layer in ("raw", "staged", "clean", "quarantine", "entities")}
        if any(count != "-" for count in counts.values()):
            for layer, count in counts.items():
                print(f"  {source:<10} {layer:<11} {count:>7}")
    con = open_marts_readonly(settings)
    try:
        print("marts tables:")
        for table in ("papers", "paper_entities", "entity_counts"):
            print(f"  {table:<16} {con.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:>7} rows")
        print("top 10 entities:")
        cursor = con.execute("SELECT entity_id, label, n_papers FROM entity_counts ORDER BY n_papers DESC, entity_id LIMIT 10")
        rows = cursor.fetchall()
        table = format_table(column_names(cursor), rows, rows_note(len(rows)))
        print("\n".join("  " + line for line in table.splitlines()))
    finally:
        con.close()
    print(f"marts file: {lake.uri(MARTS_KEY)}")
    print(f'try: .venv/bin/paperlake sql "{EXAMPLE_SQL}"')


def _partition_rows(lake, layer: str, source: str, day: date) -> int | str:
    try:
        if layer == "raw":
            return len(lake.read_raw(source, day))
        return lake.read_table(layer, source, day).num_rows
    except FileNotFoundError:
        return "-"


def cmd_publish(args, settings: Settings) -> None:
    from paperlake.delta import publish_lake
    from paperlake.lake import Lake

    lake = Lake.from_settings(settings)
    print_published(lake, publish_lake(lake, settings.run_retention))


def cmd_migrate(args, settings: Settings) -> None:
    from paperlake.delta import migrate_lake
    from paperlake.lake import Lake

    lake = Lake.from_settings(settings)
    done = migrate_lake(lake, settings.run_retention)
    print(f"{done.pop('sidecars_renamed')} sidecar files renamed with a _ prefix in {lake.url}")
    print_published(lake, done)


def print_published(lake, partitions: dict[str, int]) -> None:
    """How many partitions each layer's Delta table published, and where the table is."""
    for layer, count in partitions.items():
        print(f"{layer:<11} {count:>5} partitions published  {lake.uri(layer)}")


def cmd_history(args, settings: Settings) -> None:
    from datetime import UTC, datetime

    from paperlake.delta import layer_history
    from paperlake.lake import Lake

    entries = layer_history(Lake.from_settings(settings), args.layer, args.limit)
    rows = [
        (entry["version"], datetime.fromtimestamp(entry["timestamp"] / 1000, UTC).isoformat(timespec="milliseconds"),
         entry.get("operation"), entry.get("paperlake.partition"), entry.get("paperlake.generation"), entry.get("paperlake.run_id"))
        for entry in entries
    ]
    print(format_table(["version", "timestamp", "operation", "partition", "generation", "run_id"], rows, rows_note(len(rows))))


def parse_as_of(text: str):
    """A Delta version (a number) or a timestamp (ISO 8601; UTC when it names no zone)."""
    from datetime import UTC, datetime

    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a version number nor a timestamp like 2026-11-26T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_max_rows(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of rows")
    return int(text)


def parse_search_limit(text: str) -> int:
    limit = parse_max_rows(text)
    if limit > SEARCH_MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{limit} is more than {SEARCH_MAX_LIMIT:,} papers; narrow the search with filters instead")
    return limit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlake", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="fetch, clean, validate and tag one source for one date (no Airflow)")
    ingest.add_argument("--source", required=True)
    ingest.add_argument("--date", required=True, type=parse_day)
    ingest.add_argument("--allow-shrink", action="store_true", help="commit even if the date loses most of its committed rows")
    ingest.set_defaults(func=cmd_ingest)

    reparse = sub.add_parser("reparse", help="rebuild a date's clean/quarantine/entities from raw/ (no network)")
    reparse.add_argument("--source", required=True)
    reparse.add_argument("--date", required=True, type=parse_day)
    reparse.add_argument("--allow-shrink", action="store_true", help="commit even if the date loses most of its committed rows")
    reparse.set_defaults(func=cmd_ingest)

    marts = sub.add_parser("marts", help="rebuild and publish the DuckDB marts from the lake")
    marts.add_argument("--full", action="store_true", help="rebuild every mart from scratch instead of only the partitions that changed")
    marts.set_defaults(func=cmd_marts)

    sql = sub.add_parser("sql", help="run read-only SQL against the marts")
    sql.add_argument("query", nargs="?")
    sql.add_argument("--file", help="read the query from this file")
    sql.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    sql.add_argument("--output", help="write the result here instead of printing it (streamed: any size)")
    sql.add_argument("--max-rows", type=parse_max_rows, default=DEFAULT_MAX_ROWS, help=MAX_ROWS_HELP)
    sql.add_argument("--as-of", type=parse_as_of, metavar="VERSION|TIMESTAMP", help=AS_OF_HELP)
    sql.set_defaults(func=cmd_sql)

    search = sub.add_parser("search", help='find papers by their title and abstract, best first (BM25; "quoted phrases", stemmed words)')
    search.add_argument("query", help='words (all required, stemmed: decoders finds decoding) and "exact phrases"')
    search.add_argument("--entity", help="only papers mentioning this entity (its entity_id, e.g. LoRA)")
    search.add_argument("--label", help="only papers mentioning an entity of this label (e.g. DATASET), or with --entity: the entity as this label")
    search.add_argument("--since", type=parse_day, help="only papers first seen on or after this date")
    search.add_argument("--until", type=parse_day, help="only papers first seen on or before this date")
    search.add_argument("--source", help="only papers seen in this source")
    search.add_argument("--limit", type=parse_search_limit, default=10, help=f"papers shown (default 10, at most {SEARCH_MAX_LIMIT:,})")
    search.add_argument("--format", choices=("table", "csv", "json"), default="table")
    search.add_argument("--width", type=parse_max_rows, default=60, help="characters per table cell (default 60)")
    search.set_defaults(func=cmd_search)

    shell = sub.add_parser("shell", help="interactive read-only SQL on the marts, with the lake's layers as lake_* views")
    shell.add_argument("--max-rows", type=parse_max_rows, default=DEFAULT_MAX_ROWS, help=MAX_ROWS_HELP)
    shell.add_argument("--as-of", type=parse_as_of, metavar="VERSION|TIMESTAMP", help=AS_OF_HELP)
    shell.set_defaults(func=cmd_shell)

    publish = sub.add_parser("publish", help="publish every committed partition the layers' Delta tables lag behind (after a crash)")
    publish.set_defaults(func=cmd_publish)

    migrate = sub.add_parser("migrate", help="bring a lake of the older layout to this one (sidecar names, Delta tables)")
    migrate.set_defaults(func=cmd_migrate)

    history = sub.add_parser("history", help="a layer's Delta table versions: when, which partition and run each published")
    history.add_argument("--layer", choices=TABLE_LAYERS, default="clean")
    history.add_argument("--limit", type=parse_max_rows, default=20, help="newest versions shown (default 20)")
    history.set_defaults(func=cmd_history)

    summary = sub.add_parser("summary", help="rows per layer for a date, marts tables and top entities")
    summary.add_argument("--date", required=True, type=parse_day)
    summary.set_defaults(func=cmd_summary)
    for command in sub.choices.values():  # `--verbose` after the command too; SUPPRESS keeps the global value
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def expected_failures() -> tuple[type[BaseException], ...]:
    """The exceptions main() reports as one line: failures to act on (input, data, network, storage), not bugs."""
    from paperlake.errors import PaperlakeError
    from paperlake.sources.http import FetchError, TransientHTTPError
    from paperlake.validate import QuarantineThresholdExceeded

    failures = (CliError, PaperlakeError, FetchError, TransientHTTPError, QuarantineThresholdExceeded, OSError,
                ValueError)
    # botocore is loaded only for an S3 lake; when it is not, none of its errors can have been raised.
    botocore = sys.modules.get("botocore.exceptions")
    return failures + ((botocore.BotoCoreError, botocore.ClientError) if botocore else ())


def describe_failure(err: BaseException, settings: Settings | None) -> str:
    """`err` as one line saying what failed; an S3 failure names lake, endpoint and error code, never credentials."""
    text = str(err)
    if type(err).__module__.startswith("botocore."):
        from botocore.exceptions import ClientError  # already loaded: the error came from it

        code = err.response.get("Error", {}).get("Code") if isinstance(err, ClientError) else type(err).__name__
        endpoint = settings.s3.endpoint_url or "the default AWS endpoint"
        text = f"S3 request for the lake {settings.lake_url} at {endpoint} failed: {code}: {err}"
    elif isinstance(err, OSError) and err.strerror:
        text = f"{err.filename}: {err.strerror}" if err.filename else err.strerror
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = None
    try:
        settings = Settings.from_env()
        args.func(args, settings)
    except BrokenPipeError:
        return reader_went_away()
    except Exception as err:
        if not isinstance(err, expected_failures()):
            raise
        if args.verbose:
            import traceback

            traceback.print_exception(err)
        print(f"paperlake: {describe_failure(err, settings)}", file=sys.stderr)
        return 2
    return 0


def reader_went_away() -> int:
    """The reader of stdout closed it (`paperlake sql ... | head`): stop quietly, as a Unix filter would (exit 141)."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the interpreter's final flush must not fail again
    return 128 + 13  # SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
