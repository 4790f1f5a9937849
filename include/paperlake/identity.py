"""Cross-source identity: a title's key, and records without an arXiv id linked to one by that key."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from paperlake.arxiv_ids import is_arxiv_id
from paperlake.commit import committed_keys
from paperlake.lake import Lake, partition_of


def normalise_title(title: str) -> str:
    """Lower-case letters and digits only, single-spaced: the form two spellings of one title share."""
    folded = re.sub("['\u2019`]", "", unicodedata.normalize("NFKD", title).casefold())
    return " ".join(re.findall(r"[^\W_]+", "".join(ch for ch in folded if not unicodedata.combining(ch))))


def title_key(title: str) -> str:
    """A stable hex id for a title, independent of case, accents, punctuation and spacing."""
    return hashlib.sha1(normalise_title(title).encode()).hexdigest()


# Sources whose pages carry no ids: their records take the paper_id of a known paper with the same title.
TITLE_LINKED_SOURCES = ("snapshot",)


def known_titles(lake: Lake, exclude_source: str) -> dict[str, str]:
    """title key -> arXiv paper_id, from every committed clean partition of the other sources."""
    index: dict[str, str] = {}
    for key in committed_keys(lake, "clean"):
        source, day = partition_of(key)
        if source == exclude_source:
            continue
        table = lake.read_key_table(key, columns=["paper_id", "title"])
        for paper_id, title in zip(table.column("paper_id").to_pylist(), table.column("title").to_pylist()):
            if paper_id and title and is_arxiv_id(paper_id):
                index.setdefault(title_key(title), paper_id)
    return index


def link_by_title(rows: list[dict], index: dict[str, str]) -> int:
    """Give rows whose title matches a known paper that paper's id (source_id keeps their own); returns how many."""
    linked = 0
    for row in rows:
        paper_id = index.get(title_key(row["title"]))
        if paper_id:
            row["paper_id"] = paper_id
            linked += 1
    return linked
