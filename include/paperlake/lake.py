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

    def read_table(self, layer: str, source: str, day: date):
        """The partition as a pyarrow Table; FileNotFoundError names what is missing."""
        import pyarrow.parquet as pq

        key = f"{self.partition_prefix(layer, source, day)}/{TABLE_FILE}"
        try:
            data = self.store.get(key)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no {layer} partition for source={source} date={day}: {self.uri(key)} is missing; "
                f"run the stage that writes it first"
            ) from None
        return pq.read_table(io.BytesIO(data))

    def table_keys(self, layer: str) -> list[str]:
        """Keys of every partition file of a layer, across sources and dates."""
        return [k for k in self.store.list(layer) if k.endswith("/" + TABLE_FILE)]

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
    def write_raw(self, source: str, day: date, pages: list[RawPage]) -> str:
        """Land pages verbatim, then the manifest that names them (the commit point), then prune."""
        prefix = self.partition_prefix("raw", source, day)
        entries, keep = [], set()
        for page in pages:
            digest = hashlib.sha256(page.body).hexdigest()
            stem, dot, ext = page.name.rpartition(".")
            stored = f"{stem}-{digest[:12]}.{ext}" if dot else f"{page.name}-{digest[:12]}"
            key = f"{prefix}/{stored}"
            self.store.put(key, page.body)
            keep.add(key)
            meta = asdict(page)
            del meta["body"]
            entries.append({**meta, "file": stored, "sha256": digest, "bytes": len(page.body)})
        manifest_key = f"{prefix}/{RAW_MANIFEST}"
        self.store.put(manifest_key, json.dumps({"source": source, "date": day.isoformat(), "pages": entries}, indent=2).encode())
        keep.add(manifest_key)
        self.store.delete([k for k in self.store.list(prefix) if k not in keep])
        return self.uri(manifest_key)

    def read_raw(self, source: str, day: date) -> list[RawPage]:
        """The pages the last fetch of this partition landed, in fetch order."""
        prefix = self.partition_prefix("raw", source, day)
        try:
            manifest = json.loads(self.store.get(f"{prefix}/{RAW_MANIFEST}"))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no raw partition for source={source} date={day} under {self.uri(prefix)}; fetch it first"
            ) from None
        pages = []
        for entry in manifest["pages"]:
            body = self.store.get(f"{prefix}/{entry['file']}")
            pages.append(
                RawPage(
                    name=entry["name"], body=body, url=entry["url"], status=entry["status"],
                    headers=entry["headers"], fetched_at=entry["fetched_at"],
                )
            )
        return pages


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
