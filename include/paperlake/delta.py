"""Every table layer as a Delta Lake table whose log names exactly the committed runs' files.

`_commits` (`paperlake.commit`) stays the authority: one commit makes every layer of a run current
at once. Each commit is then *published*: every table layer's Delta table (`<layer>/_delta_log/`,
partitioned by `source` and `date`) gets one transaction that replaces the partition's files with
the committed run's Parquet file, laid over the file where it lies (no copy). The transaction carries
an application transaction id (`paperlake/<source>/<date>`, version = the commit's generation), so
publishing twice changes nothing and an older generation never replaces a newer one. A publish that
did not happen (a worker killed between commit and publish, Delta conflicts past the retries) is made
by the partition's next garbage collection, its next commit, or `paperlake publish`.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta

from paperlake import schemas
from paperlake.commit import RUN_ID_PATTERN, Commit, current_commit, current_commits
from paperlake.errors import PaperlakeError
from paperlake.lake import SIDECAR_PREFIX, TABLE_FILE, TABLE_LAYERS, Lake, partition_of
from paperlake.layer_columns import RENAMED_LAYERS

log = logging.getLogger("paperlake")

PARTITION_COLUMNS = ["source", "date"]
# Concurrent commits of other partitions of the same table make a publish retry (Delta's own retries, then ours).
PUBLISH_ATTEMPTS = 5
DELTA_COMMIT_RETRIES = 10
# Time travel reaches back as far as the log is kept (checkpoints clean up older entries) and as far as
# the data files are: superseded runs' files are deleted by paperlake's GC after PAPERLAKE_RUN_RETENTION_DAYS.
LOG_RETENTION = "interval 30 days"


class PublishFailed(PaperlakeError):
    """A commit could not be published to a layer's Delta table (the commit itself stands)."""


class LakeNotMigrated(PaperlakeError):
    """The lake still holds a layer under its former name (RENAMED_LAYERS): `paperlake migrate` moves it."""


def check_migrated(lake: Lake, layers: tuple[str, ...] = TABLE_LAYERS) -> None:
    """Refuse to read or write `layers` while files of one lie under its former name (a listing per renamed layer,
    empty once migrated)."""
    for former, layer in RENAMED_LAYERS.items():
        if layer in layers and (left := lake.store.list(former)):
            raise LakeNotMigrated(
                f"the lake {lake.url} holds the {layer} layer under its former name {former}/ ({len(left)} files, "
                f"e.g. {lake.uri(left[0])}): run `paperlake migrate` to move it to {layer}/, then retry"
            )


def table_uri(lake: Lake, layer: str) -> str:
    """Where the layer's Delta table lives: the layer's folder (`s3://bucket/prefix/clean`, or a local path)."""
    return lake.uri(layer)


def table_schema(layer: str):
    """The Delta table's schema: the layer's columns, then the partition columns `source` and `date`."""
    import pyarrow as pa

    return pa.schema([*schemas.LAYER_SCHEMAS[layer], pa.field("source", pa.string()), pa.field("date", pa.date32())])


def app_id(source: str, day: date) -> str:
    """The application transaction id of a partition's publishes (its version: the commit generation)."""
    return f"paperlake/{source}/{day.isoformat()}"


def open_table(lake: Lake, layer: str, as_of: int | datetime | None = None):
    """The layer's DeltaTable (as of a version or timestamp, default the latest); None when never published."""
    from deltalake import DeltaTable

    uri, options = table_uri(lake, layer), lake.store.delta_options()
    if not DeltaTable.is_deltatable(uri, options):
        return None
    from deltalake.exceptions import DeltaError

    try:
        table = DeltaTable(uri, version=as_of if isinstance(as_of, int) else None, storage_options=options)
        if isinstance(as_of, datetime):
            table.load_as_version(as_of)
    except DeltaError as err:  # a version or time the log does not hold (any more)
        raise PaperlakeError(
            f"the {layer} Delta table {uri} cannot be read as of {as_of}: {err}; see `paperlake history --layer "
            f"{layer}`"
        ) from None
    return table


def add_action(lake: Lake, layer: str, commit: Commit):
    """The Delta add action naming the committed run's file of `layer` where it lies, with its row count."""
    from deltalake.transaction import AddAction

    key = lake.run_key(layer, commit.source, commit.day, commit.run_id)
    size, modified = lake.store.stat(key)
    return AddAction(
        path=key.split("/", 1)[1], size=size, partition_values={"source": commit.source, "date": commit.date},
        modification_time=int(modified * 1000), data_change=True, stats=json.dumps({"numRecords": commit.rows[layer]}),
    )


def commit_properties(commits: list[Commit]):
    """Delta commit properties of a publish: each partition's application transaction (version = generation), and
    which run (or how many partitions) it published, for `paperlake history`."""
    from deltalake import CommitProperties, Transaction

    apps = [Transaction(app_id(c.source, c.day), c.generation) for c in commits]
    if len(commits) == 1:
        (commit,) = commits
        described = {
            "paperlake.run_id": commit.run_id,
            "paperlake.partition": apps[0].app_id,
            "paperlake.generation": str(commit.generation),
        }
    else:
        described = {"paperlake.partition": f"{len(commits)} partitions"}
    return CommitProperties(app_transactions=apps, max_commit_retries=DELTA_COMMIT_RETRIES, custom_metadata=described)


def create_table(lake: Lake, layer: str, commits: list[Commit], retention: timedelta) -> None:
    """Create the layer's Delta table naming `commits`' files, in one transaction; a DeltaError if it exists already."""
    from deltalake import Schema
    from deltalake.transaction import create_table_with_add_actions

    create_table_with_add_actions(
        table_uri(lake, layer),
        Schema.from_arrow(table_schema(layer)),
        [add_action(lake, layer, c) for c in commits],
        mode="error",
        partition_by=PARTITION_COLUMNS,
        name=layer,
        configuration=table_configuration(retention),
        storage_options=lake.store.delta_options(),
        commit_properties=commit_properties(commits),
    )


def publish_layer(lake: Lake, layer: str, commit: Commit, retention: timedelta) -> bool:
    """Make the layer's Delta table name exactly `commit`'s file in its partition; False if it already does."""
    from deltalake import Schema
    from deltalake.exceptions import CommitFailedError, DeltaError

    failure = None
    for _ in range(PUBLISH_ATTEMPTS):
        table = open_table(lake, layer)
        try:
            if table is None:
                create_table(lake, layer, [commit], retention)
                return True
            if (table.transaction_version(app_id(commit.source, commit.day)) or 0) >= commit.generation:
                return False
            table.create_write_transaction(
                [add_action(lake, layer, commit)],
                mode="overwrite",
                schema=Schema.from_arrow(table_schema(layer)),
                partition_by=PARTITION_COLUMNS,
                partition_filters=[("source", "=", commit.source), ("date", "=", commit.date)],
                commit_properties=commit_properties([commit]),
            )
            return True
        except (CommitFailedError, DeltaError) as err:
            # a concurrent writer won this version (or created the table): look again
            failure = err
    raise PublishFailed(
        f"{commit.source} {commit.date}: run {commit.run_id} (generation {commit.generation}) is committed but "
        f"its {layer} Delta table {table_uri(lake, layer)} could not be updated: {failure}; "
        "run `paperlake publish` to retry"
    )


def table_configuration(retention: timedelta) -> dict[str, str]:
    """Table properties: Delta's file retention matches paperlake's run retention (a vacuum never outruns our GC)."""
    hours = max(1, int(retention.total_seconds() // 3600))
    return {
        "delta.deletedFileRetentionDuration": f"interval {hours} hours",
        "delta.logRetentionDuration": LOG_RETENTION,
    }


def publish_partition(lake: Lake, commit: Commit, retention: timedelta) -> list[str]:
    """Publish a commit to each table layer's Delta table; returns the layers that changed (none if already done)."""
    check_migrated(lake)
    return [layer for layer in TABLE_LAYERS if publish_layer(lake, layer, commit, retention)]


def publish_current(lake: Lake, source: str, day: date, retention: timedelta) -> list[str]:
    """Publish the partition's current commit (nothing when none exists or it is published already)."""
    commit = current_commit(lake.store, source, day)
    return publish_partition(lake, commit, retention) if commit else []


def publish_lake(lake: Lake, retention: timedelta) -> dict[str, int]:
    """Publish every committed partition a Delta table lags behind (after a crash, or on a lake of the older layout).

    Returns layer -> partitions published.
    """
    from deltalake.exceptions import DeltaError

    commits = current_commits(lake.store)
    check_migrated(lake)
    published = {}
    for layer in TABLE_LAYERS:
        table = open_table(lake, layer)
        if table is None and commits:  # a lake of the older layout: every partition in one transaction
            try:
                create_table(lake, layer, sorted(commits.values(), key=lambda c: (c.source, c.date)), retention)
                published[layer] = len(commits)
                continue
            except DeltaError:  # a commit created it meanwhile: publish what it lacks, partition by partition
                table = open_table(lake, layer)
        lagging = [
            c
            for c in commits.values()
            if table is None or (table.transaction_version(app_id(c.source, c.day)) or 0) < c.generation
        ]
        for commit in sorted(lagging, key=lambda c: (c.source, c.date)):
            publish_layer(lake, layer, commit, retention)
        published[layer] = len(lagging)
    return published


def move_renamed_layers(lake: Lake) -> int:
    """Move every file of a layer under its former name to today's (`staged/...` -> `parsed/...`, its Delta log
    included: the log names files relative to the table's folder). The log moves last, so `check_migrated` refuses
    the layer until every file has moved; a move interrupted halfway is finished by the next one. Returns the files
    moved (0 once done)."""
    moved = 0
    for former, current in RENAMED_LAYERS.items():
        keys = lake.store.list(former)
        delta_log = f"{former}/_delta_log/"
        for key in sorted(keys, key=lambda k: (k.startswith(delta_log), k)):
            lake.store.put(current + key[len(former):], lake.store.get(key))
            lake.store.delete([key])
            moved += 1
    return moved


def migrate_lake(lake: Lake, retention: timedelta) -> dict[str, int]:
    """Bring a lake of an older layout to this one: layers under a former name move to today's (`staged/` ->
    `parsed/`), sidecars in table folders get their `_` prefix (`tagged-<run>.json` -> `_tagged-<run>.json`), then
    every committed partition is published.

    Returns how many files moved, how many sidecars were renamed and how many partitions each layer published; a
    second run changes nothing.
    """
    files_moved = move_renamed_layers(lake)
    table_stem = TABLE_FILE.rsplit(".", 1)[0] + "-"
    renamed = []
    for layer in TABLE_LAYERS:
        for key in lake.store.list(layer):
            folder, _, name = key.rpartition("/")
            if "/source=" in key and RUN_ID_PATTERN.search(name) and not name.startswith((SIDECAR_PREFIX, table_stem)):
                lake.store.put(f"{folder}/{SIDECAR_PREFIX}{name}", lake.store.get(key))
                renamed.append(key)
    lake.store.delete(renamed)
    return {"files_moved": files_moved, "sidecars_renamed": len(renamed), **publish_lake(lake, retention)}


def file_paths(table, **filters) -> list[str]:
    """The files `table.file_uris(**filters)` names, as paths DuckDB opens. For a local table delta-rs percent-encodes
    the table's own folder there (a lake under "my home" comes back as my%20home) but not the partition folders below
    it, which hold the encoding on disk: the table's folder is put back as it is. S3 URIs are returned as they are."""
    from urllib.parse import unquote, urlparse

    uris = table.file_uris(**filters)
    location = urlparse(table.table_uri)
    if location.scheme != "file":
        return uris
    encoded = location.path.rstrip("/")
    return [unquote(encoded) + uri[len(encoded):] if uri.startswith(encoded + "/") else uri for uri in uris]


def published_files(lake: Lake, layer: str, as_of: int | datetime | None = None) -> list[str]:
    """URIs of the files the layer's Delta table names (as of a version or a timestamp); [] when never published.

    Asked for a version or a time of a table never published (a lake of the older layout), it says so instead of
    answering with no rows."""
    table = open_table(lake, layer, as_of)
    if table is None and as_of is not None:
        raise PaperlakeError(
            f"the {layer} layer has no Delta table at {table_uri(lake, layer)} to read as of {as_of}: run `paperlake "
            "migrate`"
        )
    return sorted(file_paths(table)) if table else []


def published_runs(uris: list[str]) -> dict[tuple[str, date], str]:
    """(source, date) -> run id of the table files `uris` (one of `published_files`), read from their names."""
    return {partition_of(uri): RUN_ID_PATTERN.search(uri).group(1) for uri in uris}


def layer_history(lake: Lake, layer: str, limit: int | None = None) -> list[dict]:
    """The layer's Delta versions, newest first: version, timestamp, operation and the paperlake run each published."""
    table = open_table(lake, layer)
    return table.history(limit) if table else []
