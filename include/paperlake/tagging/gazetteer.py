"""The curated gazetteer (canonical entities with aliases, a JSONL data file) as entity-ruler patterns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LABELS = ("MODEL", "DATASET", "METRIC", "TASK", "METHOD")


@dataclass(frozen=True)
class GazetteerEntry:
    """A canonical entity: `entity_id` is its canonical name; aliases include it."""

    entity_id: str
    label: str
    aliases: tuple[str, ...]
    case_sensitive: bool = False


def load_gazetteer(path: Path) -> list[GazetteerEntry]:
    """Read the JSONL gazetteer; an unknown label or a blank alias is an error naming the line."""
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        if item["label"] not in LABELS:
            raise ValueError(f"{path}:{lineno}: label {item['label']!r} is not one of {LABELS}")
        aliases = tuple(a.strip() for a in item["aliases"])
        if not all(aliases):
            raise ValueError(f"{path}:{lineno}: blank alias for {item['id']!r}")
        entries.append(GazetteerEntry(item["id"], item["label"], aliases, bool(item.get("case_sensitive"))))
    return entries


def alias_is_case_sensitive(entry: GazetteerEntry, alias: str) -> bool:
    """Acronyms and flagged names match only as written (MATH the benchmark, not 'math')."""
    return entry.case_sensitive or not any(ch.islower() for ch in alias)


def ruler_patterns(entries: list[GazetteerEntry], tokenizer) -> list[dict]:
    """Token patterns for spaCy's entity ruler; each pattern's `id` is the canonical entity id."""
    patterns = []
    for entry in entries:
        for alias in entry.aliases:
            attr = "ORTH" if alias_is_case_sensitive(entry, alias) else "LOWER"
            tokens = [tok.text if attr == "ORTH" else tok.lower_ for tok in tokenizer(alias)]
            patterns.append({"label": entry.label, "id": entry.entity_id, "pattern": [{attr: t} for t in tokens]})
    return patterns
