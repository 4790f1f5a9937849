"""arXiv query API (Atom XML): the papers submitted in a data interval, in configured categories.

Pages with `start`/`max_results` until `opensearch:totalResults`; a window whose result count
passes the API's 30,000 cap is split in halves. Known quirks handled: a first page that comes back
empty with totalResults 0 (asked again before an interval is taken as empty), 429/503 with
Retry-After, timeouts (see `sources.http`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import FetchRequest, data_pages
from paperlake.arxiv_ids import read_arxiv_id
from paperlake.sources.fields import FieldReader, author_label, xml_text
from paperlake.sources.http import FetchError, Fetcher
from paperlake.sources.pages import read_xml

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}
ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
RESULT_CAP = 30_000
EMPTY_FIRST_PAGE_RETRIES = 2


def min_interval(http) -> float:
    return http.arxiv_min_interval


def search_query(categories: tuple[str, ...], start: datetime, end: datetime) -> str:
    """Categories OR-ed, restricted to submittedDate in [start, end) at the API's minute granularity (GMT)."""
    last = end - timedelta(minutes=1)
    cats = " OR ".join(f"cat:{c}" for c in categories)
    return f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"


def fetch(request: FetchRequest, fetcher: Fetcher) -> None:
    """Land every page of every window of the interval."""
    http = request.settings.http
    windows = [(request.interval_start, request.interval_end)]
    while windows:
        start, end = windows.pop(0)
        query = search_query(http.arxiv_categories, start, end)
        total = _first_total(fetcher, http, query)
        if total > RESULT_CAP and end - start > timedelta(minutes=2):
            middle = start + (end - start) / 2
            middle = middle.replace(second=0, microsecond=0)
            windows[:0] = [(start, middle), (middle, end)]
            continue
        offset = 0
        while offset < min(total, RESULT_CAP):
            root = _get_feed(fetcher, http, query, offset, "data")
            entries = root.findall("atom:entry", NS)
            if not entries:
                raise FetchError(
                    f"arxiv {request.day}: empty page at start={offset} of totalResults={total} for {query!r}; "
                    f"the API is flaky under load, retry the task later"
                )
            offset += len(entries)


def _first_total(fetcher: Fetcher, http, query: str) -> int:
    """totalResults of a window, from a 1-result probe; an empty answer is asked again before it is believed."""
    for _ in range(EMPTY_FIRST_PAGE_RETRIES + 1):
        root = _get_feed(fetcher, http, query, 0, "probe", max_results=1)
        total = root.findtext("opensearch:totalResults", "0", NS).strip()
        if not total.isdigit():
            raise FetchError(f"arxiv {fetcher.day}: totalResults {total[:40]!r} is not a count for {query!r}")
        if int(total):
            return int(total)
    return 0


def _get_feed(fetcher: Fetcher, http, query: str, start: int, role: str, max_results: int | None = None) -> ET.Element:
    params = {
        "search_query": query, "start": start, "max_results": max_results or http.arxiv_page_size,
        "sortBy": "submittedDate", "sortOrder": "ascending",
    }
    response = fetcher.get(http.arxiv_api_url, params, f"{role}-{start:06d}.xml", role=role)
    try:
        return read_feed(response.content, str(response.request.url))
    except ParseError as err:
        raise FetchError(f"arxiv {fetcher.day}: {err}; the body is kept in raw_errors/ for inspection") from err


def read_feed(body: bytes, url: str) -> ET.Element:
    """The Atom feed a query answered; a ParseError when the page is anything else (an error page, a proxy's answer)."""
    root = read_xml(body, url)
    if root.tag != ATOM_FEED:
        raise ParseError(f"{url} is not an Atom feed: its root element is {root.tag}")
    return root


def parse(pages: list[RawPage]) -> list[PaperRecord]:
    """Every entry of every data page."""
    return [
        parse_entry(entry, f"entry {n} of {page.url}")
        for page in data_pages(pages)
        for n, entry in enumerate(read_feed(page.body, page.url).findall("atom:entry", NS))
    ]


def parse_entry(entry: ET.Element, where: str) -> PaperRecord:
    """One Atom entry as a PaperRecord (text as fetched; cleaning comes later); an unreadable date is a parse_error."""
    fields = FieldReader(where)
    paper_id, version = read_arxiv_id(entry.findtext("atom:id", "", NS))  # validation quarantines other ids
    links = {link.get("title") or link.get("rel"): link.get("href") for link in entry.findall("atom:link", NS)}
    published = fields.timestamp("published", entry.findtext("atom:published", None, NS))
    authors = []
    for author in entry.findall("atom:author", NS):
        name = (author.findtext("atom:name", "", NS) or "").strip()
        affs = [a.text.strip() for a in author.findall("arxiv:affiliation", NS) if a.text]
        authors.append(author_label(name, affs))
    primary = entry.find("arxiv:primary_category", NS)
    return PaperRecord(
        paper_id=paper_id,
        source_id=f"{paper_id}v{version}" if version else paper_id,
        version=version,
        title=entry.findtext("atom:title", "", NS),
        abstract=entry.findtext("atom:summary", "", NS),
        authors=authors,
        categories=[c.get("term") for c in entry.findall("atom:category", NS) if c.get("term")],
        primary_category=primary.get("term") if primary is not None else None,
        published=published,
        updated=fields.timestamp("updated", entry.findtext("atom:updated", None, NS)),
        listed_at=published,
        doi=xml_text(entry, "arxiv:doi", NS),
        journal_ref=xml_text(entry, "arxiv:journal_ref", NS),
        comment=xml_text(entry, "arxiv:comment", NS),
        abs_url=links.get("alternate"),
        pdf_url=links.get("pdf"),
        parse_error=fields.parse_error,  # last: read after every field
    )

