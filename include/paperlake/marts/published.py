"""Where the published marts file is, and the SQL quoting readers of it need: what `paperlake sql` imports
instead of the builder (whose imports a one-line query would otherwise pay for)."""

from __future__ import annotations

from pathlib import Path

from paperlake.config import Settings

MARTS_KEY = "marts/paperlake.duckdb"


def sql_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal (for statements DuckDB cannot parameterise)."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier (a table name read from a statement's parse tree)."""
    return '"' + name.replace('"', '""') + '"'


def local_copies(settings: Settings) -> Path:
    """The folder where the published files of an S3 lake are copied to be opened (and new versions written)."""
    return settings.home / "cache"


def published_file(lake, settings: Settings, key: str) -> Path | None:
    """A local path to the published file `key` of `lake` (a Lake or its Store; on S3: the cached copy, downloaded
    only when it changed); None when none is published."""
    return getattr(lake, "store", lake).published_copy(key, local_copies(settings))


def published_marts(lake, settings: Settings) -> Path | None:
    """A local path to the published marts file (see `published_file`); None when none is published."""
    return published_file(lake, settings, MARTS_KEY)


def local_marts_path(lake, settings: Settings) -> Path:
    """A local path to the published marts file; FileNotFoundError says how to build them when there is none."""
    path = published_marts(lake, settings)
    if path is None:
        raise FileNotFoundError(f"no marts at {lake.uri(MARTS_KEY)}; build them with `paperlake marts` (or `make run`)")
    return path
