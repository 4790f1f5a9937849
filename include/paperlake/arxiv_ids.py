"""arXiv identifiers: new-style `2401.12345v2` and old-style `hep-th/9901001v1`."""

from __future__ import annotations

import re

# A canonical id without version: new style (2401.12345) or old style (hep-th/9901001, math.GT/0309136).
ARXIV_ID_PATTERN = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
# A version fits the lake's int32 column.
_ARXIV_ID = re.compile(rf"(?P<id>{ARXIV_ID_PATTERN})(?:v(?P<version>\d{{1,9}}))?")


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """(canonical id without version, version or None) from an id or an abs/pdf URL."""
    candidate = text.strip().removeprefix("oai:arXiv.org:").removesuffix(".pdf")
    for marker in ("/abs/", "/pdf/"):
        if marker in candidate:
            candidate = candidate.split(marker, 1)[1]
    match = _ARXIV_ID.fullmatch(candidate)
    if not match:
        raise ValueError(f"not an arXiv id: {text!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def read_arxiv_id(text: str) -> tuple[str | None, int | None]:
    """parse_arxiv_id, or the text itself (None when blank) without version: validation quarantines such ids."""
    try:
        return parse_arxiv_id(text)
    except ValueError:
        return text.strip() or None, None


def is_arxiv_id(text: str) -> bool:
    """True for a canonical id without version, as stored in `paper_id`."""
    match = _ARXIV_ID.fullmatch(text)
    return bool(match) and match.group("version") is None
