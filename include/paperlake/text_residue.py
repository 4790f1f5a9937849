"""What cleaning may never leave in a text: TeX math or commands, `^{`/`_{` groups, words glued together, its own
placeholder characters.

Shared by validation (the `*_tex_residue` quarantine reasons) and `make eval-clean`.
"""

from __future__ import annotations

import re

from paperlake.clean import restore_lost_symbols
from paperlake.latex import find_math, literal_dollars

_COMMAND = re.compile(r"\\[A-Za-z]+")
_SCRIPT_GROUP = re.compile(r"[\^_]\{")
_MATH_MARK = re.compile(r"\$|\\[(\[]")
# A plain word of the raw text: letters only, between spaces, with at most some punctuation around it.
_PLAIN_WORD = re.compile(r"[(\"'“‘]*([A-Za-z]{2,})[.,;:!?)\"'”’]*")
_LETTER_COMMAND_AT_END = re.compile(r"\\(?:L|l|o|O|ss|ae|AE|oe|OE|aa|i|j)$")
_EDGE_PUNCTUATION = ".,;:!?()[]\"'“”‘’<>"
_PRIVATE_USE = re.compile("[\uE000-\uF8FF]")  # where the cleaning rules keep URLs and rendered pieces meanwhile


def markup_residue(cleaned: str) -> str | None:
    """The kind of TeX in cleaned text, or None: a math delimiter a reading would pair, a command, a `^{`/`_{` group."""
    if _MATH_MARK.search(cleaned):
        if find_math(cleaned) or "\\(" in cleaned or "\\[" in cleaned:
            return "math delimiter"
    if _COMMAND.search(cleaned):
        return "TeX command"
    if _SCRIPT_GROUP.search(cleaned):
        return "^{ or _{ group"
    return None


def glued_words(raw: str, cleaned: str) -> list[str]:
    """Plain words of the raw text that cleaning glued to their neighbours: no longer words of their own, yet there."""
    raw = restore_lost_symbols(raw)  # `sim 23` is meant as ~23: its "sim" is no word
    separate = {token.strip(_EDGE_PUNCTUATION) for token in cleaned.split()}
    for start, end in reversed(find_math(raw) if "$" in raw or "\\" in raw else []):
        raw = raw[:start] + "\x01" + raw[end:]  # words in math are not words of the text (nor are the words it touches)
    glued = []
    tokens = raw.split()
    for before, token in zip(["", *tokens], tokens):
        match = _PLAIN_WORD.fullmatch(token)
        if _LETTER_COMMAND_AT_END.search(before):
            continue  # `\L ojasiewicz` is one word, Łojasiewicz
        if match and match.group(1) not in separate and match.group(1) in cleaned:
            glued.append(match.group(1))
    return glued


def text_residue(raw: str | None, cleaned: str | None) -> str | None:
    """Why a cleaned text is not clean (markup left, or words glued compared with the raw text), or None."""
    if not cleaned:
        return None
    residue = markup_residue(cleaned)
    if residue is None and raw and "$" in cleaned:
        if cleaned.count("$") > literal_dollars(raw):
            residue = "math delimiter"  # a dollar the raw text had as math (`E $\\geq$100` -> `E ≥$100`)
    if residue is None and raw and (words := glued_words(raw, cleaned)):
        residue = "words glued together: " + ", ".join(words[:3])
    if residue is None and raw is not None and leaked_placeholders(raw, cleaned):
        residue = "cleaning placeholder left"
    return residue


def leaked_placeholders(raw: str, cleaned: str) -> bool:
    """Whether `cleaned` holds private-use characters (the cleaning's placeholders) that `raw` did not hold."""
    return bool(_PRIVATE_USE.search(cleaned)) and not _PRIVATE_USE.search(raw)
