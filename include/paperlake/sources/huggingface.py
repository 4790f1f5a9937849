"""Parsing shared by the Hugging Face papers APIs (daily papers and search return the same `paper` object)."""

from __future__ import annotations

import json
from datetime import date

from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import data_pages
from paperlake.sources.arxiv_ids import parse_arxiv_id
from paperlake.sources.fields import timestamp
from paperlake.sources.http import FetchError


def parse_paper_item(item: dict) -> PaperRecord:
    """One API item (`{"paper": {...}, ...}`) as a PaperRecord keyed by its arXiv id."""
    paper = item.get("paper") or item
    raw_id = str(paper.get("id") or "")
    try:
        paper_id, version = parse_arxiv_id(raw_id)
    except ValueError:
        paper_id, version = (raw_id or None), None  # validation quarantines ids that are not arXiv ids
    return PaperRecord(
        paper_id=paper_id,
        source_id=raw_id or None,
        version=version,
        title=paper.get("title") or item.get("title") or "",
        abstract=paper.get("summary") or item.get("summary") or "",
        authors=[a.get("name", "") for a in paper.get("authors") or [] if isinstance(a, dict)],
        published=timestamp(paper.get("publishedAt") or item.get("publishedAt")),
        listed_at=timestamp(paper.get("submittedOnDailyAt")),
        upvotes=paper.get("upvotes"),
        github_repo=paper.get("githubRepo"),
        keywords=list(paper.get("ai_keywords") or []),
        abs_url=f"https://arxiv.org/abs/{paper_id}" if paper_id and version is None and raw_id else None,
    )


def read_item_list(response, day: date) -> list:
    """The JSON list an endpoint answered; a FetchError naming the URL when it is anything else."""
    try:
        items = json.loads(response.content)
    except ValueError as err:
        raise FetchError(f"{day}: unparseable JSON from {response.request.url}: {err}") from err
    if not isinstance(items, list):
        raise FetchError(f"{day}: expected a JSON list from {response.request.url}, got {type(items).__name__}")
    return items


def parse_item_pages(pages: list[RawPage]) -> list[PaperRecord]:
    """Every item of every data page."""
    return [parse_paper_item(item) for page in data_pages(pages) for item in json.loads(page.body)]
