"""`paperlake` command: run a source/date locally, rebuild the marts, query them, summarise a run."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

from paperlake.config import Settings

EXAMPLE_SQL = "SELECT entity_id, label, n_papers FROM entity_counts ORDER BY n_papers DESC LIMIT 5"
VERBOSE_HELP = "on a failure, print the traceback as well as the one-line message"


class CliError(Exception):
    """An error shown to the user as one line, without a traceback."""


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-26") from None


def cmd_ingest(args, settings: Settings) -> None:
    from paperlake.pipeline import ingest

    for summary in ingest(settings, args.source, args.date, reparse=args.command == "reparse"):
        print(f"{summary['layer']:<9} {summary['rows']:>7} rows  {summary['uri']}")


def cmd_marts(args, settings: Settings) -> None:
    from paperlake.pipeline import marts_stage

    summary = marts_stage(settings)
    for table, rows in summary["tables"].items():
        print(f"{table:<16} {rows:>7} rows")
    print(f"published {summary['uri']}")


def open_marts_readonly(settings: Settings):
    """A read-only DuckDB connection on the published marts that cannot touch other files."""
    import duckdb

    from paperlake.lake import Lake
    from paperlake.marts.builder import local_marts_path

    path = local_marts_path(Lake.from_settings(settings), settings)  # FileNotFoundError: main() reports it
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def execute_sql(con, sql: str):
    """The cursor of `sql`; a clear CliError when DuckDB refuses it (a write, or an error in the SQL)."""
    import duckdb

    try:
        return con.execute(sql)
    except duckdb.Error as err:
        first_line = str(err).splitlines()[0]
        if isinstance(err, duckdb.PermissionException) or "read-only mode" in str(err):
            raise CliError(f"refused: the marts are read-only here ({first_line})") from None
        raise CliError(f"SQL error: {first_line}") from None


def run_query(con, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a query."""
    cursor = execute_sql(con, sql)
    if cursor.description is None:
        return [], []
    return [d[0] for d in cursor.description], cursor.fetchall()


def format_rows(columns: list[str], rows: list[tuple], fmt: str, max_width: int = 60) -> str:
    """Rows as an aligned text table, CSV or a JSON array of objects."""
    if fmt == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], indent=2, default=str)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _cell(value, max_width: int) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def cmd_sql(args, settings: Settings) -> None:
    if (args.query is None) == (args.file is None):
        raise CliError("give either a query or --file query.sql")
    if args.format == "parquet" and not args.output:
        raise CliError("--format parquet needs --output PATH")
    sql = args.query if args.query is not None else Path(args.file).read_text(encoding="utf-8")
    con = open_marts_readonly(settings)
    try:
        if args.format == "parquet":
            write_parquet(con, sql, args.output)
            return
        columns, rows = run_query(con, sql)
    finally:
        con.close()
    text = format_rows(columns, rows, args.format)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


def write_parquet(con, sql: str, output: str) -> None:
    """The query's result as a Parquet file (written by pyarrow: DuckDB itself may not touch files here)."""
    import pyarrow.parquet as pq

    table = execute_sql(con, sql).to_arrow_table()
    pq.write_table(table, output)
    print(f"wrote {table.num_rows} rows to {output}")


def open_shell_connection(settings: Settings):
    """In-memory DuckDB with the marts attached read-only (as the default schema) and the lake's layers as `lake_*` views."""
    import duckdb

    from paperlake.lake import Lake
    from paperlake.marts.builder import connect_lake_views, local_marts_path, sql_literal

    lake = Lake.from_settings(settings)
    path = local_marts_path(lake, settings)
    con = duckdb.connect()
    con.execute(f"ATTACH {sql_literal(str(path))} AS marts (READ_ONLY)")
    connect_lake_views(con, lake, settings)
    con.execute("USE marts")
    return con


def run_shell(con, stdin, stdout) -> None:
    """Read statements ending in `;` and print their results; `.tables` lists tables, `.quit` or EOF leaves."""
    stdout.write("paperlake shell: the marts (read-only) and lake_* views; end statements with ';', .quit to leave\n")
    buffer = ""
    while True:
        stdout.write("paperlake> " if not buffer else "      ...> ")
        stdout.flush()
        line = stdin.readline()
        if not line or line.strip() in (".quit", ".exit"):
            break
        if not buffer and line.strip() == ".tables":
            line = "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2;"
        buffer += line
        if buffer.rstrip().endswith(";"):
            try:
                columns, rows = run_query(con, buffer)
                stdout.write(format_rows(columns, rows, "table") + "\n")
            except CliError as err:
                stdout.write(f"{err}\n")
            buffer = ""
    stdout.write("\n")


def cmd_shell(args, settings: Settings) -> None:
    con = open_shell_connection(settings)
    try:
        run_shell(con, sys.stdin, sys.stdout)
    finally:
        con.close()


def cmd_summary(args, settings: Settings) -> None:
    from paperlake.lake import Lake
    from paperlake.marts.builder import MARTS_KEY

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
        columns, rows = run_query(con, "SELECT entity_id, label, n_papers FROM entity_counts ORDER BY n_papers DESC, entity_id LIMIT 10")
        print("\n".join("  " + line for line in format_rows(columns, rows, "table").splitlines()))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlake", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="fetch, clean, validate and tag one source for one date (no Airflow)")
    ingest.add_argument("--source", required=True)
    ingest.add_argument("--date", required=True, type=parse_day)
    ingest.set_defaults(func=cmd_ingest)

    reparse = sub.add_parser("reparse", help="rebuild a date's clean/quarantine/entities from raw/ (no network)")
    reparse.add_argument("--source", required=True)
    reparse.add_argument("--date", required=True, type=parse_day)
    reparse.set_defaults(func=cmd_ingest)

    marts = sub.add_parser("marts", help="rebuild and publish the DuckDB marts from the lake")
    marts.set_defaults(func=cmd_marts)

    sql = sub.add_parser("sql", help="run read-only SQL against the marts")
    sql.add_argument("query", nargs="?")
    sql.add_argument("--file", help="read the query from this file")
    sql.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    sql.add_argument("--output", help="write the result here instead of printing it")
    sql.set_defaults(func=cmd_sql)

    shell = sub.add_parser("shell", help="interactive read-only SQL on the marts, with the lake's layers as lake_* views")
    shell.set_defaults(func=cmd_shell)

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
    except Exception as err:
        if not isinstance(err, expected_failures()):
            raise
        if args.verbose:
            import traceback

            traceback.print_exception(err)
        print(f"paperlake: {describe_failure(err, settings)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
