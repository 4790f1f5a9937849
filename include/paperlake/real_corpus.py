"""Real arXiv titles and abstracts recorded by other projects (CC0 metadata), for evaluating cleaning and tagging.

The vendored part lives in `include/data/real_corpus/*.jsonl.gz` (see its SOURCES.md); a larger local
collection in the same format can be added with `extra_dir` (`PAPERLAKE_REAL_CORPUS_DIR` for the make targets).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from paperlake.config import DATA_DIR

REAL_CORPUS_DIR = DATA_DIR / "real_corpus"
REAL_CORPUS_DIR_ENV = "PAPERLAKE_REAL_CORPUS_DIR"


@dataclass(frozen=True)
class RealAbstract:
    """One recorded paper: arXiv id (None when unknown), raw title and abstract, categories (primary first), origin."""

    id: str | None
    title: str
    abstract: str
    categories: tuple[str, ...]
    origin: str  # "owner/repo@commit:path" of the recording


def load_real_corpus(extra_dir: str | None = None) -> list[RealAbstract]:
    """Every record of the vendored files, then of `extra_dir`'s *.jsonl.gz files (each folder's in name order)."""
    directories = [REAL_CORPUS_DIR, *([Path(extra_dir)] if extra_dir else [])]
    records: list[RealAbstract] = []
    for directory in directories:
        files = sorted(Path(directory).glob("*.jsonl.gz"))
        if not files and directory != REAL_CORPUS_DIR:
            raise FileNotFoundError(
                f"no *.jsonl.gz files in {directory} (set {REAL_CORPUS_DIR_ENV} to a folder of them)"
            )
        for path in files:
            records += read_corpus_file(path)
    return records


def read_corpus_file(path: Path) -> list[RealAbstract]:
    """The records of one gzipped JSON-lines file; a malformed line fails with its file and line number."""
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                row = json.loads(line)
                records.append(RealAbstract(
                    id=row["id"], title=row["title"], abstract=row["abstract"],
                    categories=tuple(row["categories"]), origin=row["origin"],
                ))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a corpus record ({error!r})") from error
    return records


def primary_category(abstract: RealAbstract) -> str | None:
    """The paper's primary arXiv category (listed first), or None when the recording gave none."""
    return abstract.categories[0] if abstract.categories else None
