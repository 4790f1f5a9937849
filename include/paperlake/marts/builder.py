"""Keep the marts up to date with the lake's commits: update a copy of the published DuckDB file, check it, publish it
atomically.

Beside the marts, the file holds the build state (schema `state`): what each committed partition
contributed, and from which run. A build diffs the lake's current commits against it, recomputes only
what the partitions that are new, recommitted or gone touch, and derives the whole-history marts from
the maintained state; `full` starts from an empty file instead, with identical results. Every mart is
also exported as a Delta Lake table, `marts/<mart>/` (the large ones partitioned by date): a build
commits the partitions it touched as the table's next version, so a reader sees one version or the next.
"""

from __future__ import annotations

import shutil
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperlake.commit import Commit, current_generations, read_commits
from paperlake.config import Settings
from paperlake.delta import file_paths
from paperlake.lake import Lake
from paperlake.lake_views import connect_lake_views, create_layer_view
from paperlake.marts.published import MARTS_KEY, local_copies, published_marts, sql_literal
from paperlake.storage import file_to_publish, settling_copy

SQL_DIR = Path(__file__).parent / "sql"
# The lake layers the build steps read (their parsed counts are the commits': no view over `parsed`).
BUILD_LAYERS = ("clean", "quarantine", "entities")
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
    "quarantine": ("source", "date", "record_index"),
}
# Marts whose written rows (`<mart>_after`) carry their key as state keys only (the ids of the key -> their hashes):
# checked on those, a cheaper distinct count. Each step replaces a paper's or an entity's rows whole, so these
# marts are checked on the rows written alone, with WRITTEN_WHOLE below.
HASHED_KEYS = {
    "paper_entities": {"paper_key": "paper_key(paper_id)", "entity_key": "entity_key(entity_id, label)"},
    "entity_cooccurrence": {
        "entity_key": "entity_key(entity_id, label)",
        "other_key": "entity_key(other_entity_id, other_label)",
    },
}
# Rows written for a paper whose earlier rows were not all deleted (it must be among the affected ones): they could
# duplicate a key the check of the rows written alone cannot see.
WRITTEN_WHOLE = {
    "paper_entities": "SELECT count(*) FROM paper_entities_after ANTI JOIN affected_papers USING (paper_key)",
}
# Two ids sharing a state key (a 64-bit hash collision) would be merged: the build fails instead.
KEY_COLLISIONS = {
    "paper ids": (
        "SELECT count(DISTINCT paper_id) - count(DISTINCT paper_key) FROM state.paper_rows "
        "SEMI JOIN affected_papers USING (paper_key)"
    ),
    "entities": "SELECT count(*) - count(DISTINCT entity_key) FROM state.entity_names",
}
TRENDING_MIN_SUPPORT = 2
EXPORT_BATCH_ROWS = 100_000
# Exports written at once: the two largest (papers, paper_entities) side by side, on the machine's two cores.
EXPORT_WRITERS = 2
# The exports that take longest, written first (the others in UNIQUE_KEYS' order): entity_cooccurrence, rewritten whole
# by every build, started last behind the small ones and ended an added day's exports alone (0.2 s at 1M papers).
LARGEST_EXPORTS = ("papers", "paper_entities", "entity_cooccurrence")
# An update reading at most this many partitions of an export reads them one query each (see partition_rows).
PARTITION_QUERIES_MAX = 64
# An update hands over the state keys of the papers whose rows it rewrote (see export_marts) up to this many.
HANDED_PAPER_KEYS = 50_000
PARTITION_ROWS_PER_INSERT = 1_000
# DuckDB's share of a build's memory (it spills beyond it); the exports' writer and Python come on top. At 2 GB a full
# build at 1M papers spilled nothing yet took ~1.7 CPU s more (of ~55; DuckDB sizes its hash tables and keeps the file's
# blocks cached by the limit); at 3 GB its peak RSS is ~3.1 GB.
MEMORY_LIMIT = "3GB"
# ... and while the exports are written (they only scan the marts).
EXPORT_MEMORY_LIMIT = "512MB"
# An update's checkpoint merges no row groups (DuckDB's vacuum), except the COMPACT_AFTER_UPDATES-th update since the
# last merge (the state counts them): the rows an added day deletes in paper_entities' last full row groups made the
# checkpoint rewrite about three of them (370k rows, 0.3 s of an added day at 1M papers) every day. A table's row groups
# grow by about one per update meanwhile; that update (and a full build) compacts them, whatever dates the updates were
# for.
COMPACT_AFTER_UPDATES = 28
# Bump when a mart's definition, the state's layout or the exports' layout changes: a file built by another
# version is rebuilt in full (and its exports rewritten).
STATE_VERSION = 13


@dataclass(frozen=True)
class PartitionedExport:
    """A mart exported as a Delta table partitioned by `column`: marts/<mart>/<column>=<value>/<file>.parquet (the
    column in the path only)."""

    column: str
    rows: str  # the mart's rows, with the partition column
    touched: str  # the partition values an update rewrote (the build steps leave them in temp tables)


# The marts that grow with the history, exported per date: an update rewrites only the partitions it touched.
# A paper's entities go with the paper, into the partition of its first_seen (they carry it). The other marts are
# exported whole, one version of a one-file table per build (quarantine too: it stays small, and its table then always
# exists).
PARTITIONED_EXPORTS = {
    "papers": PartitionedExport("first_seen", "SELECT * FROM papers", "SELECT first_seen FROM paper_export_dates"),
    "paper_entities": PartitionedExport(
        "first_seen", "SELECT * FROM paper_entities", "SELECT first_seen FROM paper_export_dates"
    ),
    "entity_daily": PartitionedExport("date", "SELECT * FROM entity_daily", "SELECT date FROM touched"),
    "pipeline_health": PartitionedExport("date", "SELECT * FROM pipeline_health", "SELECT date FROM touched"),
}


class MartCheckFailed(RuntimeError):
    """A freshly built marts file failed its checks and was not published."""


@dataclass(frozen=True)
class MartsSummary:
    uri: str
    tables: dict[str, int]
    # "full" (from an empty file), "incremental" (from the published one) or "unchanged" (nothing to do, nothing
    # published)
    build: str = "full"
    partitions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # What an incremental build committed to each partitioned export it rewrote (see export_marts), for the search index
    # update after it.
    exports: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "uri": self.uri,
            "tables": dict(self.tables),
            "build": self.build,
            "partitions": self.partitions,
            "seconds": dict(self.seconds),
            "exports": dict(self.exports),
        }


@dataclass(frozen=True)
class PartitionChanges:
    """The partitions a build recomputes: committed generations the marts do not hold yet (their commits read), and
    partitions no longer committed; and the run id of every committed partition."""

    changed: dict[tuple[str, date], Commit]
    vanished: frozenset[tuple[str, date]]
    runs: dict[tuple[str, date], str]

    @classmethod
    def between(cls, store, built: dict[tuple[str, date], tuple[int, str]]) -> PartitionChanges:
        """What changed from the (generation, run id) per partition the marts were built from (`built`) to the lake's
        current commits: only the commits of generations not built are read."""
        generations = current_generations(store)
        changed = read_commits(
            store, (current for key, current in generations.items() if built.get(key, (None,))[0] != current[0])
        )
        runs = {key: built[key][1] for key in generations.keys() - changed.keys()}
        runs |= {key: commit.run_id for key, commit in changed.items()}
        return cls(changed, frozenset(built.keys() - generations.keys()), runs)

    def __len__(self) -> int:
        return len(self.changed) + len(self.vanished)


def latest_partition_date(runs: dict) -> date | None:
    """The newest committed partition date (read from the commit keys, no data scanned)."""
    return max((day for _, day in runs), default=None)


def mart_sql_files() -> list[Path]:
    """The build steps, in order (the state's keys and a new file's schema are separate)."""
    return sorted(SQL_DIR.glob("[0-9]*.sql"))


def built_runs(path: Path) -> dict[tuple[str, date], tuple[int, str]] | None:
    """(source, date) -> (commit generation, run id) of the partitions a marts file holds; None when its state is
    absent or of another version, or the file is no DuckDB database (overwritten, truncated): the build then starts
    from scratch."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException:
        return None
    with con:
        try:
            version = con.execute("SELECT state_version, duckdb_version FROM state.build").fetchone()
        except duckdb.CatalogException:
            return None
        if version != (STATE_VERSION, duckdb.__version__):
            return None
        rows = con.execute("SELECT source, date, generation, run_id FROM state.partitions").fetchall()
        return {(source, day): (generation, run_id) for source, day, generation, run_id in rows}


# The row counts a commit holds that the marts read (pipeline_health), as columns of the partition tables: commit key ->
# column.
COMMIT_COUNTS = {"parsed": "parsed_rows", "quarantine": "quarantine_rows"}


def create_partition_table(con, name: str, keys, commits: dict | None = None) -> None:
    """Temp table `name` of (source, date) pairs for the build steps to join on, with each one's generation, run_id
    and committed row counts (COMMIT_COUNTS) in `commits` if given.

    Written as SQL literals: registering an Arrow table would import pandas (~0.25 s a build).
    """
    counts = "".join(f", {column} BIGINT" for column in COMMIT_COUNTS.values())
    commit_fields = f", generation BIGINT, run_id VARCHAR{counts}" if commits is not None else ""
    columns = f"source VARCHAR, date DATE{commit_fields}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
    rows = [
        f"({sql_literal(source)}, DATE {sql_literal(day.isoformat())}{commit_columns(commits, (source, day))})"
        for source, day in sorted(keys)
    ]
    for start in range(0, len(rows), PARTITION_ROWS_PER_INSERT):
        con.execute(f"INSERT INTO {name} VALUES {', '.join(rows[start:start + PARTITION_ROWS_PER_INSERT])}")


def commit_columns(commits: dict | None, key: tuple[str, date]) -> str:
    """The generation, run id and row counts of the commit of `key`, as SQL literals after a comma; nothing without
    `commits`."""
    if commits is None:
        return ""
    commit = commits[key]
    counts = "".join(f", {int(commit.rows[name])}" for name in COMMIT_COUNTS)
    return f", {int(commit.generation)}, {sql_literal(commit.run_id)}{counts}"


def register_changes(con, lake: Lake, changes: PartitionChanges, new: bool) -> None:
    """What the build steps read: `touched` (changed or vanished partitions), `changed_runs` (their committed runs),
    the `lake_*` views over the changed partitions, and `lake_texts` / `text_partitions`, the clean rows papers' text
    comes from."""
    create_partition_table(con, "touched", changes.changed.keys() | changes.vanished)
    create_partition_table(con, "changed_runs", changes.changed, changes.changed)
    connect_lake_views(con, lake, changes.changed, layers=BUILD_LAYERS)
    fallback = (
        set() if new else {tuple(row) for row in con.execute((SQL_DIR / "text_partitions.sql").read_text()).fetchall()}
    )
    texts = {key: changes.runs[key] for key in changes.changed.keys() | fallback}
    create_partition_table(con, "text_partitions", texts)
    if fallback:
        create_layer_view(con, lake, "lake_texts", "clean", texts)
    else:  # lake_clean's files (a view over them reads every file's schema as it is made: 0.2 s at 2,000 files)
        con.execute("CREATE OR REPLACE TEMP VIEW lake_texts AS SELECT * FROM lake_clean")


def update_marts(con, lake: Lake, changes: PartitionChanges, new: bool, clock: Stopwatch) -> dict[str, int]:
    """Apply `changes` to the marts file open on `con` (an empty one when `new`); rows per mart after checks.

    Trends are computed as of the latest date in the lake; `clock` times each step.
    """
    import duckdb

    # Row order inside a mart means nothing (readers use ORDER BY): DuckDB may then insert in parallel, in less memory.
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = {sql_literal(MEMORY_LIMIT)}")
    # Each statement over a lake_* view binds its read_parquet again, reading every file's footer (0.2 s per view at
    # 2,000 partitions): kept from the first read instead (a run's files are never rewritten).
    con.execute("SET parquet_metadata_cache = true")
    # Literals, not bound parameters: DuckDB's first bound parameter imports pandas (~0.25 s a build).
    reference = latest_partition_date(changes.runs)
    con.execute(
        f"SET VARIABLE reference_date = {'NULL' if reference is None else sql_literal(reference.isoformat())}::DATE"
    )
    con.execute(f"SET VARIABLE min_support = {int(TRENDING_MIN_SUPPORT)}")
    con.execute(f"SET VARIABLE state_version = {int(STATE_VERSION)}")
    con.execute(f"SET VARIABLE duckdb_version = {sql_literal(duckdb.__version__)}")
    register_changes(con, lake, changes, new)
    steps = [SQL_DIR / "keys.sql", *([SQL_DIR / "schema.sql"] if new else []), *mart_sql_files()]
    if not new:
        # One commit, after the checks: a commit per statement synced the WAL each time, the first one waiting for the
        # copy's pages to reach the disk (0.2 s of an added day at 1M papers).
        con.execute("BEGIN TRANSACTION")
    for sql_file in steps:
        try:
            with clock.phase(sql_file.stem):
                con.execute(sql_file.read_text())
        except duckdb.Error as err:
            raise MartCheckFailed(f"mart step {sql_file.name} failed: {err}") from err
    with clock.phase("check"):
        counts = check_marts(con, new)
    with clock.phase("checkpoint"):
        if not new:
            if not compacts(con):
                con.execute("SET max_vacuum_tasks = 0")
            # the commit checkpoints, writing no WAL first (one of ~20 MB, synced, at 1M papers)
            con.execute("SET checkpoint_threshold = '0KB'")
            con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return counts


def compacts(con) -> bool:
    """Whether the update on `con` lets its checkpoint merge row groups (see COMPACT_AFTER_UPDATES); noted in the state
    it checkpoints."""
    (uncompacted,) = con.execute("SELECT uncompacted_updates + 1 FROM state.build").fetchone()
    compacting = uncompacted >= COMPACT_AFTER_UPDATES
    con.execute(f"UPDATE state.build SET uncompacted_updates = {0 if compacting else int(uncompacted)}")
    return compacting


def mart_counts(con) -> dict[str, int]:
    """Rows per mart."""
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in UNIQUE_KEYS}


def check_marts(con, new: bool) -> dict[str, int]:
    """Rows per mart; raises MartCheckFailed on duplicate keys, a state key shared by two ids, or empty marts over a
    non-empty lake.

    A build checks the rows holding the keys it wrote (each step leaves the keys of exactly the rows it
    inserted in `<mart>_after`; in a new file, every row): the others were checked when they were written.
    """
    counts = mart_counts(con)
    written = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    for table, key in UNIQUE_KEYS.items():
        after = f"{table}_after" in written
        # a hashed key: two ids sharing a hash fail the collision checks below
        cols = ", ".join(HASHED_KEYS[table] if after and table in HASHED_KEYS else key)
        rows = checked_rows(con, table, cols, counts[table], after)
        total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({cols})) FROM {rows}").fetchone()
        if total != distinct:
            raise MartCheckFailed(f"mart {table}: {total - distinct} duplicate keys on ({cols})")
    for ids, sql in KEY_COLLISIONS.items():
        if con.execute(sql).fetchone()[0]:
            raise MartCheckFailed(
                f"two {ids} share a state key (a 64-bit hash collision); the marts cannot be built, please report it"
            )
    clean_rows = con.execute("SELECT count(*) FROM state.paper_rows").fetchone()[0]
    if clean_rows and not counts["papers"]:
        raise MartCheckFailed(f"mart papers is empty although the lake has {clean_rows} clean rows")
    return counts


def checked_rows(con, table: str, cols: str, rows: int, after: bool) -> str:
    """The rows of `table` an update must check: those sharing a key with the rows it wrote (`<table>_after`, if
    `after`), or, when it rewrote the table (as many rows as it wrote) or replaces a paper's or entity's rows whole
    (HASHED_KEYS), the rows written; with no rows written noted, the whole table."""
    if not after:
        return table
    if table in HASHED_KEYS:
        if table in WRITTEN_WHOLE and con.execute(WRITTEN_WHOLE[table]).fetchone()[0]:
            raise MartCheckFailed(f"mart {table}: rows written for papers whose earlier rows were kept")
        return f"{table}_after"
    written = con.execute(f"SELECT count(*) FROM {table}_after").fetchone()[0]
    return f"{table}_after" if written == rows else f"{table} SEMI JOIN {table}_after USING ({cols})"


def build_marts(lake: Lake, settings: Settings, full: bool = False) -> MartsSummary:
    """Bring the published marts up to date with the lake's commits, then publish them in one atomic step.

    Only what the changed partitions touch is recomputed, on a copy of the published file; `full`, or a
    published file without a state this builder can extend, rebuilds everything from the lake.
    """
    import duckdb

    clock = Stopwatch()
    with clock.phase("diff"):
        previous = None if full else published_marts(lake, settings)
        built = None if previous is None else built_runs(previous)
        changes = PartitionChanges.between(lake.store, built or {})
    if built is not None and not changes:
        with duckdb.connect(str(previous), read_only=True) as con:
            return MartsSummary(lake.uri(MARTS_KEY), mart_counts(con), build="unchanged", seconds=clock.seconds)
    with file_to_publish(lake.store, MARTS_KEY, local_copies(settings)) as path:
        if built is not None:
            with clock.phase("copy"):
                shutil.copyfile(previous, path)
        with settling_copy(previous, path) if built is not None else nullcontext():
            con = duckdb.connect(str(path))
            try:
                # Nothing is exported before every step, check and the checkpoint succeeded: a build that fails
                # leaves the exports as the published marts file has them.
                counts = update_marts(con, lake, changes, built is None, clock)
                exports = export_marts(con, lake, built is None, clock)
            finally:
                con.close()
        with clock.phase("publish"):
            publish_marts(lake, settings, path)
    build = "full" if built is None else "incremental"
    return MartsSummary(
        lake.uri(MARTS_KEY), counts, build=build, partitions=len(changes), seconds=clock.seconds, exports=exports
    )


class Stopwatch:
    """Seconds spent in each phase of a build."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 2)


def export_marts(con, lake: Lake, new: bool, clock: Stopwatch) -> dict[str, dict]:
    """Commit the marts open on `con` to their Delta tables, marts/<mart>/, each as the table's next version: of the
    partitioned marts every partition for a new file, else the partitions this update touched; the other marts whole.

    The tables are written EXPORT_WRITERS at a time, each from its own cursor (delta-rs and DuckDB's scan both run
    outside the GIL), the largest first. The files a version replaces are deleted at once (a plain Parquet reader of
    the folder then sees exactly the current rows; the marts are derived, so no older version is kept for time travel):
    by a vacuum after a new file's exports, else in the folders of the partitions rewritten only (see
    delete_replaced_files). A new file's exports are checkpointed at the version written.

    Returns, for each partitioned mart an update rewrote, what it committed: the table's id, the version it wrote, the
    table's latest version, the partition column and values rewritten, and the files they now hold; papers and
    paper_entities also the keys (hash(paper_id)) of the papers whose rows it rewrote, `paper_keys` (None past
    HANDED_PAPER_KEYS), so that the search index update re-reads only those.
    """
    from concurrent.futures import ThreadPoolExecutor

    writes = []
    for mart in [*LARGEST_EXPORTS, *(mart for mart in UNIQUE_KEYS if mart not in LARGEST_EXPORTS)]:
        export = PARTITIONED_EXPORTS.get(mart)
        rows, predicate = (export.rows if export else f"SELECT * FROM {mart}"), None
        if export and not new:
            touched = sorted({value.isoformat() for (value,) in con.execute(export.touched).fetchall()})
            if not touched:
                continue
            rows = partition_rows(export, touched)
            predicate = f"{export.column} IN ({', '.join(sql_literal(v) for v in touched)})"
        writes.append((mart, rows, predicate, export.column if export else None, touched if predicate else None))
    # Read before the build steps' temp tables are dropped (a new file's exports commit no partitions: none handed).
    affected = f"SELECT paper_key FROM affected_papers LIMIT {HANDED_PAPER_KEYS + 1:d}"
    paper_keys = [] if new else [key for (key,) in con.execute(affected).fetchall()]
    release_build_memory(con)
    with ThreadPoolExecutor(EXPORT_WRITERS) as pool:
        done = {write[0]: pool.submit(export_mart, con.cursor(), lake, new, clock, *write) for write in writes}
        commits = {mart: commit for mart, write in done.items() if (commit := write.result()) is not None}
    for mart in commits.keys() & {"papers", "paper_entities"}:
        commits[mart]["paper_keys"] = paper_keys if len(paper_keys) <= HANDED_PAPER_KEYS else None
    return commits


def release_build_memory(con) -> None:
    """Drop the build steps' temp tables and let DuckDB keep at most EXPORT_MEMORY_LIMIT cached: the exports' writers
    buffer their tables' partitions in memory beside it (the peak RSS of a full build)."""
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall():
        con.execute(f'DROP TABLE temp."{name}"')
    con.execute(f"SET memory_limit = {sql_literal(EXPORT_MEMORY_LIMIT)}")


def export_mart(
    cursor,
    lake: Lake,
    new: bool,
    clock: Stopwatch,
    mart: str,
    rows: str,
    predicate: str | None,
    column: str | None,
    touched: list[str] | None,
) -> dict | None:
    """Commit `rows` (read on `cursor`, closed after) as the next version of the mart's Delta table: the partitions
    `touched` (`predicate` names them) replaced, or all of them without, partitioned by `column` if given. What it
    committed (export_marts) when it replaced some partitions, else None."""
    from deltalake import DeltaTable, write_deltalake

    uri, options = lake.uri(f"marts/{mart}"), lake.store.delta_options()
    with cursor, clock.phase(f"export {mart}"):
        if new:
            remove_foreign_export(lake, mart, uri, options)
        # an update writes through the table it opened (delta-rs then reads its log once, and updates it in place)
        table = uri if new else DeltaTable(uri, storage_options=options)
        write_deltalake(
            table,
            # an update's few partitions go as DuckDB's own Arrow stream: no pyarrow import (0.15-0.3 s of an added
            # day); but its batches are of a million rows, outside the memory limit, so many partitions (a full build,
            # a retag recommitting every partition) are read in batches of EXPORT_BATCH_ROWS
            cursor.sql(rows) if streamed(new, touched) else cursor.execute(rows).to_arrow_reader(EXPORT_BATCH_ROWS),
            mode="overwrite",
            predicate=predicate,
            partition_by=[column] if column else None,
            schema_mode="overwrite" if new else None,
            storage_options=options if new else None,
        )
        if new:
            table = DeltaTable(uri, storage_options=options)
            written = table.version()
            table.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
            # an update then opens the table from this checkpoint, not by replaying the JSON log of every file's add
            table.create_checkpoint()
        else:
            written = table.version()
            delete_replaced_files(lake, mart, table, column, touched)
    if predicate is None:
        return None
    return {
        "table_id": table.metadata().id,
        "written": written,
        "version": table.version(),
        "column": column,
        "partitions": touched,
        "files": file_paths(table, file_pruning_predicate=[(column, "in", touched)]),
    }


def streamed(new: bool, touched: list[str] | None) -> bool:
    """Whether an export goes to delta-rs as DuckDB's Arrow stream (see export_mart): an update's whole small mart, or
    at most PARTITION_QUERIES_MAX of its partitions."""
    return not new and (touched is None or len(touched) <= PARTITION_QUERIES_MAX)


def delete_replaced_files(lake: Lake, mart: str, table, column: str | None, touched: list[str] | None) -> None:
    """Delete the data files in the folders an update rewrote that the table's version `table` does not name: those
    of the partitions `touched` (by `column`), or the table's own folder for an unpartitioned table.

    Only those folders are listed, not the whole table (a thousand partition folders for an export by date): a build
    killed after writing them left its files there, and its rerun rewrites the same partitions (the marts file it did
    not publish still names the same runs), so they are deleted then. Hidden files (`_delta_log/`, `.` temp files) are
    left alone, as a Delta vacuum leaves them.
    """
    prefix = f"marts/{mart}/"
    folders = [f"{prefix}{column}={value}/" for value in touched] if column else [prefix]
    named = set(table.get_add_actions(flatten=True).column("path").to_pylist())
    replaced = [
        key
        for folder in folders
        for key in lake.store.list(folder)
        if key[len(prefix):] not in named and not any(part[0] in "_." for part in key[len(prefix):].split("/"))
    ]
    lake.store.delete(replaced)


def partition_rows(export: PartitionedExport, values: list[str]) -> str:
    """The query of the export's rows in partitions `values` (ISO dates).

    A few partitions are read one `column = DATE '...'` query each, in one UNION ALL: DuckDB applies an equality on
    the scan itself, skipping the vectors of other dates, whereas it takes an IN list over the column as an optional
    zone-map filter only, so a few scattered dates would decompress nearly every row's text (an added day of 1M papers
    touches 27 first_seen dates: 0.6 s instead of 0.25 s). Many partitions are read with the IN list, in one scan.
    """
    dates = [f"DATE {sql_literal(value)}" for value in values]
    if len(dates) > PARTITION_QUERIES_MAX:
        return f"SELECT * FROM ({export.rows}) WHERE {export.column} IN ({', '.join(dates)})"
    return " UNION ALL ".join(f"SELECT * FROM ({export.rows}) WHERE {export.column} = {day}" for day in dates)


def remove_foreign_export(lake: Lake, mart: str, uri: str, options: dict | None) -> None:
    """Delete an export folder that is not a Delta table (Parquet files an earlier builder published) before a table is
    made there."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(uri, storage_options=options):
        lake.store.delete(lake.store.list(f"marts/{mart}/"))


def publish_marts(lake: Lake, settings: Settings, path: Path) -> None:
    """Replace the marts file with `path` in one atomic step (after the exports are committed).

    The marts file goes last: a build that fails on the way leaves it as it was, so the next build recomputes,
    and commits again the exports of, the same partitions.
    """
    lake.store.publish_file(MARTS_KEY, path, local_copies(settings))
