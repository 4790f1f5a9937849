"""`paperlake shell`: read statements ending in `;`, run each read-only statement, print its result."""

from __future__ import annotations

from functools import partial

from paperlake.cli.output import DEFAULT_MAX_ROWS, run_statement, write_table
from paperlake.readonly import QueryError, read_only_statements, reads_only_marts, sql_errors


def run_shell(
    con, stdin, stdout, max_rows: int = DEFAULT_MAX_ROWS, timeout: float | None = None, create_lake_views=None
) -> None:
    """Read statements ending in `;` and print their results; `.tables` lists tables, `.quit` or EOF leaves.
    Ctrl-C cancels the running statement (or the one being typed) and the shell goes on. `create_lake_views`, if
    given, is called before each statement naming anything but the marts' tables (see open_marts_shell)."""
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
                        if create_lake_views and not reads_only_marts(con, statement):
                            create_lake_views()
                        run_statement(con, statement, partial(write_table, out=stdout, max_rows=max_rows), timeout)
            except QueryError as err:
                stdout.write(f"{err}\n")
            buffer = ""
    stdout.write("\n")
