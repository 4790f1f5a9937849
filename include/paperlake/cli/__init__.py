"""`paperlake` command: run a source/date locally, rebuild the marts, query them, summarise a run."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from paperlake.cli.commands import (
    cmd_history,
    cmd_ingest,
    cmd_marts,
    cmd_migrate,
    cmd_publish,
    cmd_search,
    cmd_shell,
    cmd_sql,
    cmd_summary,
)
from paperlake.cli.output import DEFAULT_MAX_ROWS
from paperlake.config import Settings
from paperlake.errors import PaperlakeError
from paperlake.layer_columns import TABLE_LAYERS

SEARCH_MAX_LIMIT = 1000


VERBOSE_HELP = "on a failure, print the traceback as well as the one-line message"


AS_OF_HELP = (
    "read the lake_* views as of a Delta version or a timestamp (time travel; see `paperlake history`); "
    "with sql, the query then also sees the lake_* views"
)


MAX_ROWS_HELP = f"rows shown as a table (default {DEFAULT_MAX_ROWS}); `sql --format csv|json|parquet` writes every row"


def parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-26") from None
    if day == date.max:  # a partition covers [day, day + 1): its end must be a date too
        raise argparse.ArgumentTypeError(
            f"{text!r} is past the last date a partition can cover ({date.max - timedelta(days=1)})"
        )
    return day


def parse_as_of(text: str):
    """A Delta version (a number) or a timestamp (ISO 8601; UTC when it names no zone)."""
    from datetime import UTC, datetime

    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a version number nor a timestamp like 2026-11-26T12:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_max_rows(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of rows")
    return int(text)


def parse_search_limit(text: str) -> int:
    limit = parse_max_rows(text)
    if limit > SEARCH_MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"{limit} is more than {SEARCH_MAX_LIMIT:,} papers; narrow the search with filters instead"
        )
    return limit


def declare_ingest(command: argparse.ArgumentParser) -> None:
    command.add_argument("--source", required=True)
    command.add_argument("--date", required=True, type=parse_day)
    command.add_argument(
        "--allow-shrink", action="store_true", help="commit even if the date loses most of its committed rows"
    )
    command.set_defaults(func=cmd_ingest)


def declare_marts(marts: argparse.ArgumentParser) -> None:
    marts.add_argument(
        "--full",
        action="store_true",
        help="rebuild every mart from scratch instead of only the partitions that changed",
    )
    marts.set_defaults(func=cmd_marts)


def declare_sql(sql: argparse.ArgumentParser) -> None:
    sql.add_argument("query", nargs="?")
    sql.add_argument("--file", help="read the query from this file")
    sql.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    sql.add_argument("--output", help="write the result here instead of printing it (streamed: any size)")
    sql.add_argument("--max-rows", type=parse_max_rows, default=DEFAULT_MAX_ROWS, help=MAX_ROWS_HELP)
    sql.add_argument("--as-of", type=parse_as_of, metavar="VERSION|TIMESTAMP", help=AS_OF_HELP)
    sql.set_defaults(func=cmd_sql)


def declare_search(search: argparse.ArgumentParser) -> None:
    search.add_argument("query", help='words (all required, stemmed: decoders finds decoding) and "exact phrases"')
    search.add_argument("--entity", help="only papers mentioning this entity (its entity_id, e.g. LoRA)")
    search.add_argument(
        "--label",
        help="only papers mentioning an entity of this label (e.g. DATASET, any case), "
        "or with --entity: the entity as this label",
    )
    search.add_argument("--since", type=parse_day, help="only papers first seen on or after this date")
    search.add_argument("--until", type=parse_day, help="only papers first seen on or before this date")
    search.add_argument("--source", help="only papers seen in this source")
    search.add_argument(
        "--limit", type=parse_search_limit, default=10, help=f"papers shown (default 10, at most {SEARCH_MAX_LIMIT:,})"
    )
    search.add_argument("--format", choices=("table", "csv", "json"), default="table")
    search.add_argument("--width", type=parse_max_rows, default=60, help="characters per table cell (default 60)")
    search.set_defaults(func=cmd_search)


def declare_shell(shell: argparse.ArgumentParser) -> None:
    shell.add_argument("--max-rows", type=parse_max_rows, default=DEFAULT_MAX_ROWS, help=MAX_ROWS_HELP)
    shell.add_argument("--as-of", type=parse_as_of, metavar="VERSION|TIMESTAMP", help=AS_OF_HELP)
    shell.set_defaults(func=cmd_shell)


def declare_history(history: argparse.ArgumentParser) -> None:
    history.add_argument("--layer", choices=TABLE_LAYERS, default="clean")
    history.add_argument("--limit", type=parse_max_rows, default=20, help="newest versions shown (default 20)")
    history.set_defaults(func=cmd_history)


def declare_summary(summary: argparse.ArgumentParser) -> None:
    summary.add_argument("--date", required=True, type=parse_day)
    summary.set_defaults(func=cmd_summary)


# Each subcommand, in `--help` order: its help line and the function declaring its arguments.
SUBCOMMANDS = {
    "ingest": ("fetch, clean, validate and tag one source for one date (no Airflow)", declare_ingest),
    "reparse": ("rebuild a date's clean/quarantine/entities from raw/ (no network)", declare_ingest),
    "marts": ("rebuild and publish the DuckDB marts from the lake", declare_marts),
    "sql": ("run read-only SQL against the marts", declare_sql),
    "search": (
        'find papers by their title and abstract, best first (BM25; "quoted phrases", stemmed words)',
        declare_search,
    ),
    "shell": ("interactive read-only SQL on the marts, with the lake's layers as lake_* views", declare_shell),
    "publish": (
        "publish every committed partition the layers' Delta tables lag behind (after a crash)",
        lambda publish: publish.set_defaults(func=cmd_publish),
    ),
    "migrate": (
        "bring a lake of an older layout to this one (staged/ -> parsed/, sidecar names, Delta tables)",
        lambda migrate: migrate.set_defaults(func=cmd_migrate),
    ),
    "history": ("a layer's Delta table versions: when, which partition and run each published", declare_history),
    "summary": ("rows per layer for a date, marts tables and top entities", declare_summary),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `paperlake` parser; given the subcommand a process runs, with only that one declared (a fresh
    `paperlake sql` builds its parser in ~0.5 ms instead of ~2.5 ms for all ten), else with all of them (`--help`, no
    command, a misspelt one)."""
    parser = argparse.ArgumentParser(prog="paperlake", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (text, declare) in SUBCOMMANDS.items():
        if command in (None, name):
            each = sub.add_parser(name, help=text)
            declare(each)
            # `--verbose` after the command too; SUPPRESS keeps the global value
            each.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def invoked_command(argv: list[str]) -> str | None:
    """The subcommand `argv` names (its first argument that is not an option: `--verbose` takes no value), if it is
    one."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in SUBCOMMANDS else None


def expected_failures() -> tuple[type[BaseException], ...]:
    """The exceptions main() reports as one line: failures to act on (input, data, network, storage), not bugs."""
    from paperlake.sources.http import FetchError, TransientHTTPError
    from paperlake.validate import QuarantineThresholdExceeded

    failures = (PaperlakeError, FetchError, TransientHTTPError, QuarantineThresholdExceeded, OSError,
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
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(invoked_command(argv)).parse_args(argv)
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
