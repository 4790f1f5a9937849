"""The `paperlake` subcommands, each `cmd_<name>(args, settings)`: the same library code the DAG tasks run, without
Airflow."""

from __future__ import annotations

import csv
import sys
from datetime import date
from functools import partial
from pathlib import Path

from paperlake.cli.output import column_names, format_table, rows_note, run_statement, write_result
from paperlake.cli.shell import run_shell
from paperlake.config import Settings
from paperlake.errors import UsageError
from paperlake.marts.published import MARTS_KEY, local_copies
from paperlake.readonly import (
    QueryError,
    open_marts_readonly,
    open_marts_shell,
    open_shell_connection,
    read_only_statements,
    sql_errors,
)

EXAMPLE_SQL = "SELECT entity_id, label, n_papers FROM entity_counts ORDER BY n_papers DESC LIMIT 5"


def cmd_ingest(args, settings: Settings) -> None:
    from paperlake.pipeline import ingest

    *stages, commit = ingest(
        settings, args.source, args.date, reparse=args.command == "reparse", allow_shrink=args.allow_shrink
    )
    for summary in stages:
        print(f"{summary.layer:<9} {summary.rows:>7} rows  {summary.uri}")
    print(
        f"committed run {commit.run_id} as generation {commit.commit.generation} of source={args.source} "
        f"date={args.date}"
    )


def cmd_marts(args, settings: Settings) -> None:
    from paperlake.pipeline import marts_stage, search_index_stage

    summary = marts_stage(settings, full=args.full)
    for table, rows in summary.tables.items():
        print(f"{table:<16} {rows:>7} rows")
    print(f"published {summary.uri} ({summary.build} build, {summary.partitions} partitions recomputed)")
    index = search_index_stage(settings, full=args.full, marts_exports=summary.exports)
    print(
        f"search index {index.uri}: {index.build} ({index.indexed} papers indexed, {index.removed} removed, "
        f"{index.papers} in all)"
    )


def cmd_sql(args, settings: Settings) -> None:
    if (args.query is None) == (args.file is None):
        raise UsageError("give either a query or --file query.sql")
    if args.format == "parquet" and not args.output:
        raise UsageError("--format parquet needs --output PATH")
    sql = args.query if args.query is not None else Path(args.file).read_text(encoding="utf-8")
    if args.output:
        refuse_output_in_lake(Path(args.output), settings)
    con = open_marts_readonly(settings) if args.as_of is None else open_shell_connection(settings, args.as_of)
    try:
        with sql_errors():
            statements = read_only_statements(con, sql)
            if len(statements) != 1:
                raise QueryError(f"SQL error: give one statement, not {len(statements)}")
            write = partial(write_result, fmt=args.format, output=args.output, max_rows=args.max_rows)
            run_statement(con, statements[0], write, settings.sql_timeout)
    finally:
        con.close()


def refuse_output_in_lake(output: Path, settings: Settings) -> None:
    """UsageError when `output` is inside the local lake or paperlake's cache (the marts and their local copy live
    there)."""
    from paperlake.lake import Lake
    from paperlake.storage import LocalStore

    store = Lake.from_settings(settings).store
    guarded = [local_copies(settings)] + ([store.root] if isinstance(store, LocalStore) else [])
    target = output.resolve()
    for folder in guarded:
        if target.is_relative_to(folder.resolve()):
            raise UsageError(
                f"refused: --output {output} is inside {folder}, which paperlake manages; write the result elsewhere"
            )


def cmd_search(args, settings: Settings) -> None:
    import json

    from paperlake.search import SearchFilters, open_search, search

    filters = SearchFilters(
        entity=args.entity, label=args.label, since=args.since, until=args.until, source=args.source
    )
    con = open_search(settings)
    try:
        page = search(con, args.query, filters, size=args.limit)
    finally:
        con.close()
    rows = [(hit.score, hit.date, hit.paper_id, hit.title, hit.snippet, ", ".join(hit.entities)) for hit in page.rows]
    columns = ["score", "date", "paper_id", "title", "snippet", "entities"]
    if args.format == "table":
        more = "" if page.total == len(rows) else f"; the best {len(rows)} shown, raise --limit for more"
        matching = f"{page.total} matching paper{'s' * (page.total != 1)}"
        print(format_table(columns, rows, f"({matching}{more})", max_width=args.width))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        records = [
            dict(zip(columns, row)) | {"entities": hit.entities, "abs_url": hit.abs_url}
            for row, hit in zip(rows, page.rows)
        ]
        print(json.dumps({"query": args.query, "total": page.total, "results": records}, default=str, indent=2))


def cmd_shell(args, settings: Settings) -> None:
    con, create_lake_views = open_marts_shell(settings, args.as_of)
    try:
        run_shell(con, sys.stdin, sys.stdout, args.max_rows, settings.sql_timeout, create_lake_views)
    finally:
        con.close()


def cmd_summary(args, settings: Settings) -> None:
    from paperlake.commit import committed_run
    from paperlake.lake import Lake

    lake = Lake.from_settings(settings)
    print(f"lake: {lake.url}")
    print(f"rows for {args.date} per layer (sources with data for that date):")
    for source in settings.sources:
        try:
            run_id = committed_run(lake, source, args.date)
        except FileNotFoundError:
            continue
        counts = {
            layer: _partition_rows(lake, layer, source, args.date, run_id)
            for layer in ("raw", "parsed", "clean", "quarantine", "entities")
        }
        if any(count != "-" for count in counts.values()):
            for layer, count in counts.items():
                print(f"  {source:<10} {layer:<11} {count:>7}")
    con = open_marts_readonly(settings)
    try:
        print("marts tables:")
        for table in ("papers", "paper_entities", "entity_counts"):
            print(f"  {table:<16} {con.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:>7} rows")
        print("top 10 entities:")
        cursor = con.execute(
            "SELECT entity_id, label, n_papers FROM entity_counts ORDER BY n_papers DESC, entity_id LIMIT 10"
        )
        rows = cursor.fetchall()
        table = format_table(column_names(cursor), rows, rows_note(len(rows)))
        print("\n".join("  " + line for line in table.splitlines()))
    finally:
        con.close()
    print(f"marts file: {lake.uri(MARTS_KEY)}")
    print(f'try: .venv/bin/paperlake sql "{EXAMPLE_SQL}"')


def _partition_rows(lake, layer: str, source: str, day: date, run_id: str) -> int | str:
    """Pages (raw) or rows (from the Parquet footer) of the run's layer; "-" when the run has none."""
    try:
        if layer == "raw":
            return len(lake.read_raw_manifest(source, day, run_id)["pages"])
        return lake.table_rows(layer, source, day, run_id)
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
    print(f"{done.pop('files_moved')} files moved to today's layer names (staged/ -> parsed/) in {lake.url}")
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
         entry.get("operation"), entry.get("paperlake.partition"), entry.get("paperlake.generation"),
         entry.get("paperlake.run_id"))
        for entry in entries
    ]
    print(
        format_table(
            ["version", "timestamp", "operation", "partition", "generation", "run_id"], rows, rows_note(len(rows))
        )
    )
