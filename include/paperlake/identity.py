"""Cross-source identity: records without an arXiv id are linked to one by their normalised title."""

from __future__ import annotations

from paperlake.clean import title_key
from paperlake.lake import Lake, partition_of
from paperlake.sources.arxiv_ids import is_arxiv_id

# Sources whose pages carry no ids: their records take the paper_id of a known paper with the same title.
TITLE_LINKED_SOURCES = ("snapshot",)


def known_titles(lake: Lake, exclude_source: str) -> dict[str, str]:
    """title key -> arXiv paper_id, from every committed clean partition of the other sources."""
    index: dict[str, str] = {}
    for key in lake.committed_keys("clean"):
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
