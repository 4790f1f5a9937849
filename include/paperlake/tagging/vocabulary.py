"""The word lists the tagging rules read, kept as data beside the gazetteer (`include/data/patterns/vocabulary.json`):
each list has an `about` saying what it is for, and either `words` or `labels` (label -> words)."""

from __future__ import annotations

import functools
import json

from paperlake.config import DATA_DIR

VOCABULARY_PATH = DATA_DIR / "patterns" / "vocabulary.json"


@functools.cache
def _lists() -> dict:
    return json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))


def words(name: str) -> frozenset[str]:
    """The words of list `name`."""
    return frozenset(_lists()[name]["words"])


def labelled_words(name: str) -> dict[str, str]:
    """word -> label, from a list of words by label."""
    return {word: label for label, group in _lists()[name]["labels"].items() for word in group}
