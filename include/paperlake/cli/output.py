"""How `paperlake sql` and the shell run a statement (a timeout, Ctrl-C) and write its result: an aligned table, or CSV,
JSON and Parquet streamed batch by batch so memory stays flat whatever the result's size."""

from __future__ import annotations

import csv
import sys
from contextlib import nullcontext

from paperlake.readonly import QueryError

DEFAULT_MAX_ROWS = 1000


FETCH_ROWS = 10_000  # rows per fetch when streaming CSV/JSON: memory stays flat whatever the result's size


PARQUET_BATCH_ROWS = 100_000  # rows per Arrow record batch, each written as one Parquet row group


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
    (PAPERLAKE_SQL_TIMEOUT; None: no limit) or by Ctrl-C, as a one-line QueryError."""
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
            raise QueryError(
                f"cancelled: the statement ran longer than PAPERLAKE_SQL_TIMEOUT ({timeout:g} s)"
            ) from None
        raise QueryError("cancelled (Ctrl-C)") from None
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
