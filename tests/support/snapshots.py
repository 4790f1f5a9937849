"""Saved-page files made from the bundled sample: a subset of its papers, optionally with revised abstracts."""

from __future__ import annotations

from pathlib import Path

from paperlake.config import BUNDLED_SNAPSHOT


def write_snapshot(path: Path, papers: int | None = None, revision: str = "") -> Path:
    """The sample's header and its first `papers` title/abstract pairs; `revision` is appended to every abstract."""
    lines = BUNDLED_SNAPSHOT.read_text(encoding="utf-8").rstrip("\n").split("\n")
    header, body = lines[:2], lines[2:]
    pairs = [(body[i], body[i + 1]) for i in range(0, len(body), 2)][:papers]
    text = "\n".join(header + [line for title, abstract in pairs for line in (title, abstract + revision)]) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
