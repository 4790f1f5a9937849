"""Text normalisation, canonical ids, content hashes and dedupe: pure functions, one rule each."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

from paperlake.lake import Lake, PartitionSummary
from paperlake.records import PaperRecord

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACE_LIKE = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalise_unicode(text: str) -> str:
    """NFC composition, so the same letters always have the same code points."""
    return unicodedata.normalize("NFC", text)


def remove_invisible_characters(text: str) -> str:
    """Drop zero-width characters and control characters other than whitespace."""
    text = _ZERO_WIDTH.sub("", text)
    return "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")


def collapse_whitespace(text: str) -> str:
    """One plain space for every run of whitespace (line breaks, tabs, non-breaking spaces); trimmed."""
    return _SPACE_LIKE.sub(" ", text).strip()


TEXT_RULES = (normalise_unicode, remove_invisible_characters, collapse_whitespace)


def clean_text(text: str | None) -> str:
    """Apply every text rule in order; idempotent."""
    text = text or ""
    for rule in TEXT_RULES:
        text = rule(text)
    return text


def normalise_title(title: str) -> str:
    """Lower-case letters and digits only, single-spaced: the form two spellings of one title share."""
    folded = re.sub("['\u2019`]", "", unicodedata.normalize("NFKD", title).casefold())
    return " ".join(re.findall(r"[^\W_]+", "".join(ch for ch in folded if not unicodedata.combining(ch))))


def title_key(title: str) -> str:
    """A stable hex id for a title, independent of case, accents, punctuation and spacing."""
    return hashlib.sha1(normalise_title(title).encode()).hexdigest()


def content_hash(title: str, abstract: str) -> str:
    """Hash of the cleaned title and abstract: equal content, equal hash (drives tagging caches)."""
    return hashlib.sha256(f"{title}\n{abstract}".encode()).hexdigest()[:32]


def clean_records(records: list[PaperRecord]) -> list[dict]:
    """Rows of the `staged` schema: cleaned text beside the original, plus hash and record index."""
    rows = []
    for index, record in enumerate(records):
        row = record.to_row()
        row["title_raw"], row["abstract_raw"] = record.title, record.abstract
        row["title"], row["abstract"] = clean_text(record.title), clean_text(record.abstract)
        row["content_hash"] = content_hash(row["title"], row["abstract"])
        row["record_index"] = index
        rows.append(row)
    return rows


def clean_partition(lake: Lake, source: str, day: date) -> PartitionSummary:
    """Parse the raw partition and write every record, cleaned, to `staged/` (no network)."""
    import pyarrow as pa

    from paperlake.identity import TITLE_LINKED_SOURCES, known_titles, link_by_title
    from paperlake.schemas import STAGED
    from paperlake.sources import load_source

    rows = clean_records(load_source(source).parse(lake.read_raw(source, day)))
    linked = link_by_title(rows, known_titles(lake, source)) if source in TITLE_LINKED_SOURCES else 0
    table = pa.Table.from_pylist(rows, schema=STAGED)
    uri = lake.write_table("staged", source, day, table)
    return PartitionSummary(
        layer="staged", source=source, date=day.isoformat(), rows=table.num_rows, uri=uri, counts={"linked_by_title": linked}
    )


def find_superseded(rows: list[dict]) -> dict[int, str]:
    """Rows to set aside because another row has the same paper_id and a newer (or equal, later) version.

    Returns {row position: paper_id of the kept row}. Same content under two ids is kept twice.
    """
    best: dict[str, int] = {}
    for pos, row in enumerate(rows):
        pid = row.get("paper_id")
        if pid is None:
            continue
        if pid not in best or (row.get("version") or 0) >= (rows[best[pid]].get("version") or 0):
            best[pid] = pos
    return {pos: row["paper_id"] for pos, row in enumerate(rows) if row.get("paper_id") is not None and best[row["paper_id"]] != pos}
