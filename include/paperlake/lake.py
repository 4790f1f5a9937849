"""The lake: Hive-partitioned layers `layer/source=S/date=D/` on a local folder or S3.

Files are immutable and named by the run that wrote them; which run of a partition is current
is decided by its commit (`paperlake.commit`), never by overwriting a file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date

from paperlake import schemas
from paperlake.config import DEFAULT_BATCH_ROWS, Settings
from paperlake.layer_columns import TABLE_LAYERS
from paperlake.storage import Store, open_store

# The documents a run writes in its partitions (each stored as `<stem>-<run id>.<ext>`).
TABLE_FILE = "part.parquet"
RAW_MANIFEST = "manifest.json"
VALIDATION_RESULT = "result.json"
VALIDATION_REPORT = "report.html"
TAGGED_MANIFEST = "tagged.json"
# In the folders of the layers that are tables (TABLE_LAYERS) only the run's table file is a plain name; every
# other document there gets a `_` prefix, which Spark, pyarrow and Delta readers skip, so a directory read of a
# table folder finds only table files.
SIDECAR_PREFIX = "_"


@dataclass(frozen=True)
class RawPage:
    """One response body exactly as fetched, with what is needed to replay or audit the fetch."""

    name: str
    body: bytes = field(repr=False)
    url: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str = ""
    # "data" pages are parsed; "probe" and "error" pages are kept for audit only.
    role: str = "data"


class Lake:
    """Reads and writes the files of one run of a partition, and reads what the partition's commit names.

    Writers name every file by their run id (`part-<run>.parquet`), so no write ever replaces a
    file a reader may be using; `paperlake.commit` makes a run's files current in one atomic step.
    Readers given no run id read the committed run.
    """

    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> Lake:
        return cls(open_store(settings.lake_url, settings.s3))

    @property
    def url(self) -> str:
        return self.store.url

    @staticmethod
    def partition_prefix(layer: str, source: str, day: date) -> str:
        return f"{layer}/source={source}/date={day.isoformat()}"

    def run_key(self, layer: str, source: str, day: date, run_id: str, name: str = TABLE_FILE) -> str:
        """The key of document `name` (`part.parquet` -> `part-<run>.parquet`) written by one run.

        In a table layer, documents other than the table are sidecars: `tagged.json` -> `_tagged-<run>.json`.
        """
        stem, dot, ext = name.rpartition(".")
        sidecar = SIDECAR_PREFIX if layer in TABLE_LAYERS and name != TABLE_FILE else ""
        return f"{self.partition_prefix(layer, source, day)}/{sidecar}{stem}-{run_id}{dot}{ext}"

    def run_keys(self, layer: str, runs: dict[tuple[str, date], str], name: str = TABLE_FILE) -> list[str]:
        """Keys of document `name` of a layer written by the runs `runs` maps each (source, date) to."""
        return sorted(self.run_key(layer, source, day, run_id, name) for (source, day), run_id in runs.items())

    def uri(self, key: str) -> str:
        return self.store.uri(key)

    # -- Parquet tables -------------------------------------------------------------------
    def write_table(self, layer: str, source: str, day: date, table, run_id: str, name: str = TABLE_FILE) -> str:
        """Write a run's table (`name`: the partition's table or a part of it) in its layer's schema; the URI."""
        with self.table_writer(layer, source, day, run_id, name) as writer:
            writer.write(table)
        return writer.uri

    @contextmanager
    def table_writer(
        self, layer: str, source: str, day: date, run_id: str, name: str = TABLE_FILE
    ) -> Iterator[TableWriter]:
        """Write a run's table a row group per `write` to a temp file published as the block ends (not if it raises)."""
        import pyarrow.parquet as pq

        key = self.run_key(layer, source, day, run_id, name)
        schema = schemas.LAYER_SCHEMAS[layer]
        with self.store.writing(key) as path, pq.ParquetWriter(path, schema, compression="zstd") as parquet:
            yield TableWriter(parquet, schema, self.uri(key))

    @contextmanager
    def open_table(self, layer: str, source: str, day: date, run_id: str, name: str = TABLE_FILE):
        """A run's table as an open `ParquetFile`, read on demand (`commit.committed_run`: the current run)."""
        import pyarrow.parquet as pq

        key = self.run_key(layer, source, day, run_id, name)
        with ExitStack() as stack:
            try:
                file = stack.enter_context(self.store.open_read(key))
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"no {layer} table for source={source} date={day}: {self.uri(key)} is missing; "
                    f"run the stage that writes it first"
                ) from None
            yield pq.ParquetFile(file)

    def read_table(
        self,
        layer: str,
        source: str,
        day: date,
        columns: list[str] | None = None,
        *,
        run_id: str,
        name: str = TABLE_FILE,
    ):
        """A run's table as a pyarrow Table; FileNotFoundError names what is missing."""
        with self.open_table(layer, source, day, run_id, name) as parquet:
            return parquet.read(columns=columns)

    def table_batches(
        self, layer: str, source: str, day: date, columns: list[str] | None = None, *, run_id: str,
        name: str = TABLE_FILE, batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> Iterator:
        """A run's table as pyarrow Tables of at most `batch_rows` rows, in order; one empty Table for an empty file."""
        import pyarrow as pa

        with self.open_table(layer, source, day, run_id, name) as parquet:
            batches = parquet.iter_batches(batch_size=batch_rows, columns=columns)
            first = next(batches, None)
            if first is None:
                yield parquet.schema_arrow.empty_table().select(columns or parquet.schema_arrow.names)
                return
            yield pa.Table.from_batches([first])
            for batch in batches:
                yield pa.Table.from_batches([batch])

    def read_rows(
        self,
        layer: str,
        source: str,
        day: date,
        start: int,
        count: int,
        columns: list[str] | None = None,
        *,
        run_id: str,
    ):
        """Rows [start, start + count) of a run's table, reading only the row groups that hold them."""
        with self.open_table(layer, source, day, run_id) as parquet:
            groups, first_row, offset = [], None, 0
            for group in range(parquet.metadata.num_row_groups):
                rows = parquet.metadata.row_group(group).num_rows
                if offset < start + count and offset + rows > start:
                    groups.append(group)
                    first_row = offset if first_row is None else first_row
                offset += rows
            return parquet.read_row_groups(groups, columns=columns).slice(
                start - (start if first_row is None else first_row), count
            )

    def table_rows(self, layer: str, source: str, day: date, run_id: str) -> int:
        """Rows of a run's table, from its Parquet footer."""
        with self.open_table(layer, source, day, run_id) as parquet:
            return parquet.metadata.num_rows

    def read_key_table(self, key: str, columns: list[str] | None = None):
        """The Parquet table stored at `key` (one of `committed_keys`)."""
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self.store.get(key)), columns=columns)

    # -- JSON and other single documents --------------------------------------------------
    def write_document(self, layer: str, source: str, day: date, name: str, data: bytes, run_id: str) -> str:
        key = self.run_key(layer, source, day, run_id, name)
        self.store.put(key, data)
        return self.uri(key)

    def write_json(self, layer: str, source: str, day: date, name: str, obj, run_id: str) -> str:
        return self.write_document(
            layer, source, day, name, json.dumps(obj, indent=2, sort_keys=True, default=str).encode(), run_id
        )

    def read_json(self, layer: str, source: str, day: date, name: str, run_id: str):
        key = self.run_key(layer, source, day, run_id, name)
        return json.loads(self.store.get(key))

    # -- raw responses --------------------------------------------------------------------
    def write_raw(
        self, source: str, day: date, pages: list[RawPage], meta: dict, run_id: str, layer: str = "raw"
    ) -> str:
        """Land pages verbatim (named by content: runs share identical pages), then the run's manifest naming them."""
        import hashlib  # here: loading OpenSSL's hashes would cost every `paperlake sql` ~2 ms

        prefix = self.partition_prefix(layer, source, day)
        entries = []
        for page in pages:
            digest = hashlib.sha256(page.body).hexdigest()
            stem, dot, ext = page.name.rpartition(".")
            stored = f"{stem}-{digest[:12]}.{ext}" if dot else f"{page.name}-{digest[:12]}"
            self.store.put(f"{prefix}/{stored}", page.body)
            entry = asdict(page)
            del entry["body"]
            entries.append({**entry, "file": stored, "sha256": digest, "bytes": len(page.body)})
        return self.write_raw_manifest(source, day, {**meta, "pages": entries}, run_id, layer)

    def write_raw_manifest(self, source: str, day: date, manifest: dict, run_id: str, layer: str = "raw") -> str:
        """A run's manifest: which raw pages it read, and the run's own facts (interval, base commit)."""
        document = {**manifest, "source": source, "date": day.isoformat(), "run_id": run_id}
        return self.write_document(
            layer, source, day, RAW_MANIFEST, json.dumps(document, indent=2, default=str).encode(), run_id
        )

    def read_raw_manifest(self, source: str, day: date, run_id: str) -> dict:
        """The manifest of a run's fetch."""
        try:
            return self.read_json("raw", source, day, RAW_MANIFEST, run_id)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no raw manifest of run {run_id} for source={source} date={day} under "
                f"{self.uri(self.partition_prefix('raw', source, day))}; fetch it first"
            ) from None

    def read_raw(self, source: str, day: date, run_id: str) -> list[RawPage]:
        """The pages a run's fetch landed, in fetch order."""
        return list(self.iter_raw(source, day, run_id))

    def iter_raw(self, source: str, day: date, run_id: str) -> Iterator[RawPage]:
        """The pages of `read_raw`, each read from the store only when it is reached."""
        prefix = self.partition_prefix("raw", source, day)
        for entry in self.read_raw_manifest(source, day, run_id)["pages"]:
            fields = {k: entry[k] for k in ("name", "url", "status", "headers", "fetched_at") if k in entry}
            yield RawPage(body=self.store.get(f"{prefix}/{entry['file']}"), role=entry.get("role", "data"), **fields)


class TableWriter:
    """Appends row groups to a run's table being written by `Lake.table_writer`."""

    def __init__(self, parquet, schema, uri: str):
        self.parquet, self.schema, self.uri = parquet, schema, uri
        self.rows = 0

    def write(self, table) -> None:
        """Append `table` (conformed to the layer's schema) as one row group; an empty table adds nothing."""
        table = conform(table, self.schema)
        if table.num_rows:
            self.parquet.write_table(table, row_group_size=table.num_rows)
            self.rows += table.num_rows


def partition_of(key: str) -> tuple[str, date]:
    """(source, date) of a key below `layer/source=S/date=D/`."""
    source = key.split("/source=", 1)[1].split("/", 1)[0]
    return source, date.fromisoformat(key.split("/date=", 1)[1].split("/", 1)[0])


def conform(table, schema):
    """`table` with exactly the schema's columns, order and types; a clear error when it cannot."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(
            f"table lacks columns {missing} required by the {schema.metadata[b'paperlake.layer'].decode()} schema"
        )
    return table.select(schema.names).cast(schema)


@dataclass(frozen=True)
class PartitionSummary:
    """What a stage wrote: small enough for XCom (paths and counts, never data)."""

    layer: str
    source: str
    date: str
    rows: int
    uri: str
    counts: dict[str, int] = field(default_factory=dict)
    run_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)
