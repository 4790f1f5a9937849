"""Gazetteer files (canonical entities with aliases, JSONL): loading, the phrase patterns that match them,
and the spelling-insensitive keys that normalise a span to its canonical entity id."""

from __future__ import annotations

import json
import re
from collections.abc import Container
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


def load_gazetteers(paths: tuple[Path, ...]) -> list[GazetteerEntry]:
    """The entries of several gazetteer files, in order (earlier files win on a shared alias); missing files are
    skipped."""
    return [entry for path in paths if path.exists() for entry in load_gazetteer(path)]


def alias_is_case_sensitive(entry: GazetteerEntry, alias: str) -> bool:
    """Acronyms, short mixed-case names and flagged names match only as written (MATH the benchmark,
    not 'math'; mAP, not 'map'); names with a digit are unambiguous in any case (gpt-4 is GPT-4)."""
    if entry.case_sensitive:
        return True
    if any(ch.isdigit() for ch in alias):
        return False
    return not any(ch.islower() for ch in alias) or (
        " " not in alias and len(alias) <= 5 and any(ch.isupper() for ch in alias[1:])
    )


def plural(alias: str) -> str | None:
    """The plural of a name that ends in a plain or capitalised noun or an acronym
    (diffusion models, Vision Transformers, PRMs), else None."""
    last = alias.split()[-1]
    if not last.endswith("s") and last.isalpha() and (last[1:].islower() or (last.isupper() and len(last) >= 2)):
        return alias + "s"
    return None


# A name whose last part is a number after a word of four letters or more ("Llama 2", "CIFAR-10"): also written glued
# (Llama2, CIFAR10). Shorter ones glued (SD2, GR1, RT1) are as often other sciences' names.
_NUMBERED_LAST_PART = re.compile(r"^(.*[A-Za-z]{4})[ -](\d+(?:\.\d+)?)$")


def spellings(alias: str) -> list[str]:
    """A lowercase multi-word name written with spaces or hyphens (question answering / question-answering);
    a name numbered in its last part also glued to its number (Llama 2 / Llama2)."""
    numbered = _NUMBERED_LAST_PART.match(alias)
    glued = [numbered.group(1) + numbered.group(2)] if numbered else []
    if not alias.islower() or alias.count(" ") + alias.count("-") == 0:
        return list(dict.fromkeys([alias, *glued]))
    return list(dict.fromkeys([alias, alias.replace("-", " "), alias.replace(" ", "-"), *glued]))


# The last word of a task named by a nominalised activity (commonsense inference, next token prediction, question
# answering): its plural counts instances ("make commonsense inferences"), not the task.
_ACTIVITY_NOUN = re.compile(r"^[a-z]+(?:ence|ing|ion|sis|ment)$")


def _names_an_activity(label: str, alias: str) -> bool:
    """`alias` is a task named by an activity noun, whose plural the gazetteer does not add."""
    return label == "TASK" and bool(_ACTIVITY_NOUN.match(alias.split()[-1]))


_DEFINITION = re.compile(r"^(.+) \(([A-Za-z][A-Za-z0-9-]*)\)$")


def definition_parts(alias: str) -> list[str]:
    """An alias written as an acronym definition is matched as its two names, the long form and the acronym
    (guidelines, boundaries 4: "vision transformer (ViT)" -> `vision transformer` + `ViT`); any other alias as written
    (`GPT-3 (175B)`, `MedQA (USMLE)`)."""
    definition = _DEFINITION.match(alias)
    if definition and _spells(definition.group(1), definition.group(2)):
        return [definition.group(1), definition.group(2)]
    return [alias]


def _spells(long_form: str, acronym: str) -> bool:
    """The acronym's letters appear in order in the long form, the first one starting it (ViT, vision transformer)."""
    letters, text = [c for c in acronym.lower() if c.isalpha()], long_form.lower()
    if len(letters) < 2 or text[:1] != letters[0]:
        return False
    position = 1
    for letter in letters[1:]:
        position = text.find(letter, position) + 1
        if position == 0:
            return False
    return True


def phrase_patterns(entries: list[GazetteerEntry]) -> list[tuple[str, str, str, bool]]:
    """(label, entity_id, phrase, case_sensitive) for every spelling and plural of every alias (no plural of a task
    named by an activity). A plural matches as the alias it comes from does: PAIRs only as written, like PAIR."""
    patterns = []
    for entry in entries:
        for alias in dict.fromkeys(part for alias in entry.aliases for part in definition_parts(alias)):
            case_sensitive = alias_is_case_sensitive(entry, alias)
            plurals = not _names_an_activity(entry.label, alias)
            for form in dict.fromkeys(f for base in spellings(alias) for f in (base, plurals and plural(base)) if f):
                patterns.append((entry.label, entry.entity_id, form, case_sensitive))
    return patterns


def entity_key(text: str) -> str:
    """The spelling-insensitive form two mentions of one entity share: GPT4, gpt-4 and GPT-4 -> gpt4."""
    return re.sub(r"[\s\-_.]+", "", text.casefold()).removesuffix("\u2019s").removesuffix("'s")


def known_keys(entries: list[GazetteerEntry]) -> set[str]:
    """entity_key of every alias: the names the gazetteer already knows, whatever their spelling."""
    return {entity_key(alias) for entry in entries for alias in entry.aliases}


def mention_pattern(name: str, ignore_case: bool = False) -> re.Pattern:
    """`name` as a whole word: not inside a longer word or hyphenated compound."""
    return re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", re.IGNORECASE if ignore_case else 0)


def alias_index(entries: list[GazetteerEntry]) -> dict[str, tuple[str, str]]:
    """entity_key(alias) -> (canonical entity_id, label), for normalising spans the rules did not name."""
    index: dict[str, tuple[str, str]] = {}
    for entry in entries:
        for alias in entry.aliases:
            index.setdefault(entity_key(alias), (entry.entity_id, entry.label))
    return index


def lookup_key(text: str, index: Container[str]) -> str | None:
    """The key under which an index (or set of keys) knows a span: its own, else its singular's (PRMs -> prm), else
    None."""
    key = entity_key(text)
    singular = key.removesuffix("s")
    return key if key in index else singular if singular != key and singular in index else None


def canonical_id(text: str, index: dict[str, tuple[str, str]]) -> str:
    """The canonical entity id of a span: its gazetteer entry's name (a plural's too), else the span text tidied."""
    key = lookup_key(text, index)
    if key:
        return index[key][0]
    return " ".join(text.split()).removesuffix("'s").removesuffix("\u2019s")
