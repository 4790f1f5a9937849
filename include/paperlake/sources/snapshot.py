"""A saved papers search-results page (text): two header lines, then title / abstract line pairs.

The page carries no ids or dates: ids derive from the normalised title, and the partition date
is the run's logical date.
"""

from __future__ import annotations

from paperlake.clean import strip_page_residue, title_key
from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import FetchRequest, data_pages
from paperlake.sources.pages import decode_text

HEADER_LINES = (
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
)


def min_interval(http) -> float:
    return 0.0


def fetch(request: FetchRequest, fetcher) -> None:
    """Read the configured snapshot file; its bytes are the raw page."""
    path = request.settings.snapshot_path
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"snapshot source: PAPERLAKE_SNAPSHOT_PATH={path} does not exist; point it at a saved page"
        ) from None
    fetcher.land(RawPage(name="page.txt", body=body, url=path.resolve().as_uri(), fetched_at=request.clock().isoformat()))


def parse(pages: list[RawPage]) -> list[PaperRecord]:
    """All papers of all pages, in page order (UTF-8, or UTF-16/32 with a byte-order mark)."""
    return [record for page in data_pages(pages) for record in parse_snapshot_page(decode_text(page.body, page.url), page.url)]


def parse_snapshot_page(text: str, origin: str = "snapshot") -> list[PaperRecord]:
    """Parse one saved page; a ParseError names the line when the format is off."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    start = 0
    while start < len(lines) and lines[start].strip() in HEADER_LINES:
        start += 1
    body = lines[start:]
    if len(body) % 2:
        raise ParseError(
            f"{origin}: expected title/abstract line pairs after the header, found an odd number "
            f"of lines ({len(body)}); the last title without abstract is line {start + len(body)}: {body[-1][:80]!r}"
        )
    records = []
    for i in range(0, len(body), 2):
        # the page's subscribe button text ends up glued to the first title ("SubscribeFlashFormer: ...")
        title = strip_page_residue(body[i].strip()) if i == 0 else body[i].strip()
        abstract = body[i + 1]
        if not title:
            raise ParseError(f"{origin}: line {start + i + 1} should be a title but is empty")
        snapshot_id = f"snapshot:{title_key(title)[:16]}"
        records.append(PaperRecord(paper_id=snapshot_id, source_id=snapshot_id, title=title, abstract=abstract))
    return records
