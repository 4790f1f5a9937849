"""Names that look coined but are never ML entities: units, chemical formulas, isotopes, particles and
physics theories, facilities and experiments, journals and conferences, roman numerals, all-caps title words.

The curated lists are data files beside the gazetteer (`include/data/patterns/exclusions/*.txt`, one name
a line, matched as written); formulas, isotopes and roman numerals are recognised by shape. They stop the
rules that label a name from context or shape alone (definitions, acronyms, the title's name); a gazetteer
hit on such a name (Gemini, DFT) stands in an ML paper and is dropped by the domain gate elsewhere.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from paperlake.config import DATA_DIR

EXCLUSIONS_DIR = DATA_DIR / "patterns" / "exclusions"
# kind -> file; elements.txt holds element symbols for the formula shape, not names.
LIST_FILES = {
    "unit": "units.txt",
    "particle or theory": "particles.txt",
    "facility": "facilities.txt",
    "venue": "venues.txt",
}
ELEMENTS_FILE = "elements.txt"

# II to XX (Phase III, type II); larger ones (XL, CVI) are as often sizes and names
_ROMAN = re.compile(r"^(?=[XVI]{2,}$)X{0,2}(?:IX|IV|V?I{0,3})$")
# 56Ni, 12C, ^{3}He, Ni-56, Fe-57 (the element part is checked against the symbols); a number before
# B, K, M or T is a model size (8B, 540B, 32K), never an isotope
_ISOTOPE = re.compile(r"^(?:\^?\{?\d{1,3}\}?([AC-JL-SU-Z][a-z]?|[BKT][a-z])|([A-Z][a-z]?)-\d{1,3})$")
# one element symbol with an optional count (up to two digits, a decimal, x/y/δ) or a charge
_FORMULA_PART = re.compile(r"([A-Z][a-z]?)(\d{1,2}(?:\.\d+)?|[xyzδ]|\d?[+-])?")


def read_names(path: Path) -> frozenset[str]:
    """The names of one list file: one a line, blank lines and `#` comments skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@functools.lru_cache(maxsize=4)
def load_lists(directory: Path = EXCLUSIONS_DIR) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """(kind -> names, element symbols) from the list files."""
    return {kind: read_names(directory / name) for kind, name in LIST_FILES.items()}, read_names(
        directory / ELEMENTS_FILE
    )


def is_formula(text: str, elements: frozenset[str]) -> bool:
    """Two or more element symbols with counts and at least one two-letter symbol, numbered or with a
    second two-letter symbol: FeSe, GaAs, SrTiO3, MoS2. CaP, SH2 and all-caps acronyms (CNN) are not."""
    parts = list(_FORMULA_PART.finditer(text))
    if len(parts) < 2 or "".join(p.group(0) for p in parts) != text or not all(p.group(1) in elements for p in parts):
        return False
    two_letter = sum(len(p.group(1)) == 2 for p in parts)
    return two_letter >= 2 or (two_letter == 1 and any(ch.isdigit() for ch in text))


def excluded_kind(text: str, directory: Path = EXCLUSIONS_DIR) -> str | None:
    """What a name is when it is not an ML entity ("unit", "formula", "venue", ...), else None."""
    lists, elements = load_lists(directory)
    for kind, names in lists.items():
        if text in names:
            return kind
    if _ROMAN.match(text):
        return "roman numeral"
    isotope = _ISOTOPE.match(text)
    if isotope and (isotope.group(1) or isotope.group(2)) in elements:
        return "isotope"
    if is_formula(text, elements):
        return "formula"
    return None


def all_caps_run(doc, i: int, length: int = 3) -> bool:
    """doc[i] sits among `length` or more consecutive all-caps words: a title or heading set in capitals."""
    def caps(j: int) -> bool:
        return 0 <= j < len(doc) and doc[j].is_alpha and doc[j].is_upper

    if not caps(i):
        return False
    start, end = i, i
    while caps(start - 1):
        start -= 1
    while caps(end + 1):
        end += 1
    return end - start + 1 >= length
