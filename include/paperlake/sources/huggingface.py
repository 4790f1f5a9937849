"""Parsing shared by the Hugging Face papers APIs (daily papers and search return the same `paper` object)."""

from __future__ import annotations

import json

from paperlake.arxiv_ids import read_arxiv_id
from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import data_pages
from paperlake.sources.fields import FieldReader
from paperlake.sources.http import Fetcher, FetchError
from paperlake.sources.pages import decode_text


def parse_paper_item(item, where: str) -> PaperRecord:
    """One API item (`{"paper": {...}, ...}`) as a PaperRecord keyed by its arXiv id.

    A field of the wrong type is not coerced: the record keeps what could be read and its
    `parse_error` names the field (`where` names the item and its page).
    """
    fields = FieldReader(where)
    if fields.object(None, item) is None:
        return PaperRecord(paper_id=None, title="", abstract="", parse_error=fields.parse_error)
    paper = fields.object("paper", item.get("paper")) or item

    def either(key: str):  # the paper's value, else the item's
        value = paper.get(key)
        return item.get(key) if value is None or value == "" else value

    raw_id = fields.string("id", paper.get("id")) or ""
    paper_id, version = read_arxiv_id(raw_id)  # validation quarantines ids that are not arXiv ids
    return PaperRecord(
        paper_id=paper_id,
        source_id=raw_id or None,
        version=version,
        title=fields.string("title", either("title")) or "",
        abstract=fields.string("summary", either("summary")) or "",
        authors=[
            fields.string(f"authors[{n}].name", author.get("name")) or ""
            for n, author in enumerate(fields.objects("authors", paper.get("authors")))
        ],
        published=fields.timestamp("publishedAt", either("publishedAt")),
        listed_at=fields.timestamp("submittedOnDailyAt", paper.get("submittedOnDailyAt")),
        upvotes=fields.integer("upvotes", paper.get("upvotes")),
        github_repo=fields.string("githubRepo", paper.get("githubRepo")),
        keywords=fields.strings("ai_keywords", paper.get("ai_keywords")),
        abs_url=f"https://arxiv.org/abs/{paper_id}" if paper_id and version is None and raw_id else None,
        parse_error=fields.parse_error,  # last: read after every field
    )


def read_item_list(body: bytes, url: str) -> list:
    """The JSON list of items a page holds; a ParseError when it is not the API's shape."""
    text = decode_text(body, url)
    try:
        items = json.loads(text)
    except (ValueError, RecursionError) as err:  # the json module recurses once per nesting level
        raise ParseError(f"{url}: unparseable JSON: {err}") from err
    if not isinstance(items, list):
        raise ParseError(f"{url}: expected a JSON list of items, got {type(items).__name__}")
    if items and not any(isinstance(item, dict) for item in items):
        raise ParseError(f"{url}: none of the {len(items)} items is a JSON object; this is not the papers API")
    return items


def fetch_item_list(fetcher: Fetcher, url: str, params: dict, name: str) -> list:
    """GET one page of items; a FetchError naming source, date and URL when it is not the API's shape."""
    response = fetcher.get(url, params, name)
    try:
        return read_item_list(response.content, str(response.request.url))
    except ParseError as err:
        raise FetchError(
            f"{fetcher.source} {fetcher.day}: {err}; the response is kept in raw_errors/ for inspection"
        ) from err


def parse_item_pages(pages: list[RawPage]) -> list[PaperRecord]:
    """Every item of every data page, one record each."""
    return [
        parse_paper_item(item, f"item {n} of {page.url}")
        for page in data_pages(pages)
        for n, item in enumerate(read_item_list(page.body, page.url))
    ]
