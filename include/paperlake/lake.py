"""The lake: Hive-partitioned layers `layer/source=S/date=D/` on a local folder or S3.

Every partition is replaced as a whole by one atomic object write, so a reader sees the old
partition or the new one, and a rerun of a date replaces what the previous run wrote.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date

from paperlake.config import Settings
from paperlake.storage import Store, open_store

TABLE_FILE = "part.parquet"
RAW_MANIFEST = "manifest.json"


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

    def text(self) -> str:
        return self.body.decode("utf-8")


class Lake:
    """Reads and writes partitions given (layer, source, date)."""

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

    def uri(self, key: str) -> str:
        return self.store.uri(key)

    # -- Parquet tables -------------------------------------------------------------------
    def write_table(self, layer: str, source: str, day: date, table) -> str:
        """Replace the partition with `table`, conformed to the layer's schema; returns its URI."""
        import pyarrow.parquet as pq

        from paperlake.schemas import LAYER_SCHEMAS

        table = conform(table, LAYER_SCHEMAS[layer])
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        key = f"{self.partition_prefix(layer, source, day)}/{TABLE_FILE}"
        self.store.put(key, buf.getvalue())
        return self.uri(key)

    def read_table(self, layer: str, source: str, day: date, columns: list[str] | None = None):
        """The partition (or some of its columns) as a pyarrow Table; FileNotFoundError names what is missing."""
        import pyarrow.parquet as pq

        key = f"{self.partition_prefix(layer, source, day)}/{TABLE_FILE}"
        try:
            data = self.store.get(key)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no {layer} partition for source={source} date={day}: {self.uri(key)} is missing; "
                f"run the stage that writes it first"
            ) from None
        return pq.read_table(io.BytesIO(data), columns=columns)

    def table_keys(self, layer: str) -> list[str]:
        """Keys of every partition file of a layer, across sources and dates."""
        return self.document_keys(layer, TABLE_FILE)

    def document_keys(self, layer: str, name: str) -> list[str]:
        """Keys of the document `name` in every partition of a layer."""
        return [k for k in self.store.list(layer) if k.endswith("/" + name)]

    # -- JSON and other single documents --------------------------------------------------
    def write_document(self, layer: str, source: str, day: date, name: str, data: bytes) -> str:
        key = f"{self.partition_prefix(layer, source, day)}/{name}"
        self.store.put(key, data)
        return self.uri(key)

    def write_json(self, layer: str, source: str, day: date, name: str, obj) -> str:
        return self.write_document(layer, source, day, name, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def read_json(self, layer: str, source: str, day: date, name: str):
        return json.loads(self.store.get(f"{self.partition_prefix(layer, source, day)}/{name}"))

    # -- raw responses --------------------------------------------------------------------
    def write_raw(self, source: str, day: date, pages: list[RawPage], meta: dict | None = None, layer: str = "raw") -> str:
        """Land pages verbatim, then the manifest that names them (the commit point), then prune."""
        prefix = self.partition_prefix(layer, source, day)
        entries, keep = [], set()
        for page in pages:
            digest = hashlib.sha256(page.body).hexdigest()
            stem, dot, ext = page.name.rpartition(".")
            stored = f"{stem}-{digest[:12]}.{ext}" if dot else f"{page.name}-{digest[:12]}"
            key = f"{prefix}/{stored}"
            self.store.put(key, page.body)
            keep.add(key)
            entry = asdict(page)
            del entry["body"]
            entries.append({**entry, "file": stored, "sha256": digest, "bytes": len(page.body)})
        manifest = {**(meta or {}), "source": source, "date": day.isoformat(), "pages": entries}
        manifest_key = f"{prefix}/{RAW_MANIFEST}"
        self.store.put(manifest_key, json.dumps(manifest, indent=2, default=str).encode())
        keep.add(manifest_key)
        self.store.delete([k for k in self.store.list(prefix) if k not in keep])
        return self.uri(manifest_key)

    def read_raw_manifest(self, source: str, day: date) -> dict:
        """The manifest of the last successful fetch of this partition."""
        prefix = self.partition_prefix("raw", source, day)
        try:
            return json.loads(self.store.get(f"{prefix}/{RAW_MANIFEST}"))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no raw partition for source={source} date={day} under {self.uri(prefix)}; fetch it first"
            ) from None

    def read_raw(self, source: str, day: date) -> list[RawPage]:
        """The pages the last fetch of this partition landed, in fetch order."""
        prefix = self.partition_prefix("raw", source, day)
        pages = []
        for entry in self.read_raw_manifest(source, day)["pages"]:
            fields = {k: entry[k] for k in ("name", "url", "status", "headers", "fetched_at") if k in entry}
            pages.append(RawPage(body=self.store.get(f"{prefix}/{entry['file']}"), role=entry.get("role", "data"), **fields))
        return pages


def partition_of(key: str) -> tuple[str, date]:
    """(source, date) of a key below `layer/source=S/date=D/`."""
    source = key.split("/source=", 1)[1].split("/", 1)[0]
    return source, date.fromisoformat(key.split("/date=", 1)[1].split("/", 1)[0])


def conform(table, schema):
    """`table` with exactly the schema's columns, order and types; a clear error when it cannot."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"table lacks columns {missing} required by the {schema.metadata[b'paperlake.layer'].decode()} schema")
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

    def to_dict(self) -> dict:
        return asdict(self)
