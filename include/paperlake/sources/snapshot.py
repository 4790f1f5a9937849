"""A saved papers search-results page (text): two header lines, then title / abstract line pairs.

The page carries no ids or dates: ids derive from the normalised title, and the partition date
is the run's logical date.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from paperlake.clean import strip_page_residue
from paperlake.errors import ParseError
from paperlake.identity import title_key
from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import FetchRequest, data_pages
from paperlake.sources.pages import decoded_pieces

# A saved results page is a few hundred KB; the whole page is held in memory as the raw layer's page.
MAX_SNAPSHOT_BYTES = 256 << 20
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
        body = read_snapshot(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"snapshot source: PAPERLAKE_SNAPSHOT_PATH={path} does not exist; point it at a saved page"
        ) from None
    fetcher.land(
        RawPage(name="page.txt", body=body, url=path.resolve().as_uri(), fetched_at=request.clock().isoformat())
    )


def read_snapshot(path: Path) -> bytes:
    """The bytes of a saved page: a regular file of at most MAX_SNAPSHOT_BYTES (a device such as /dev/zero would
    be read until memory runs out, a FIFO would block for ever: both are refused before any read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO must not wait for its writer
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ParseError(
                f"snapshot source: PAPERLAKE_SNAPSHOT_PATH={path} is not a regular file; point it at a saved page"
            )
        with os.fdopen(fd, "rb", closefd=False) as page:
            body = page.read(MAX_SNAPSHOT_BYTES + 1)
    finally:
        os.close(fd)
    if len(body) > MAX_SNAPSHOT_BYTES:
        raise ParseError(
            f"snapshot source: PAPERLAKE_SNAPSHOT_PATH={path} is larger than {MAX_SNAPSHOT_BYTES >> 20} MiB; "
            "a saved page is far smaller: check the path"
        )
    return body


def parse(pages: Iterable[RawPage]) -> Iterator[PaperRecord]:
    """All papers of all pages, in page order, one at a time (UTF-8, or UTF-16/32 with a byte-order mark)."""
    for page in data_pages(pages):
        yield from iter_snapshot_page(decoded_pieces(page.body, page.url), page.url)


def parse_snapshot_page(text: str, origin: str = "snapshot") -> list[PaperRecord]:
    """Parse one saved page; a ParseError names the line when the format is off."""
    return list(iter_snapshot_page([text], origin))


def iter_snapshot_page(pieces: Iterable[str], origin: str = "snapshot") -> Iterator[PaperRecord]:
    """The papers of one saved page, given as consecutive pieces of its text, as they are read.

    Neither the page's text nor its lines are held whole. A page with a title but no abstract at
    its end raises ParseError after the papers before it.
    """
    lines = page_lines(pieces)
    number, line = next(lines, (0, None))
    while line is not None and line.strip() in HEADER_LINES:
        number, line = next(lines, (number, None))
    body_start, first = number, True
    while line is not None:
        title_number, title_line = number, line
        number, abstract = next(lines, (number, None))
        if abstract is None:
            raise ParseError(
                f"{origin}: expected title/abstract line pairs after the header, found an odd number of lines "
                f"({title_number - body_start + 1}); the last title without abstract is line {title_number}: "
                f"{title_line[:80]!r}"
            )
        # the page's subscribe button text ends up glued to the first title ("SubscribeFlashFormer: ...")
        title = strip_page_residue(title_line.strip()) if first else title_line.strip()
        if not title:
            raise ParseError(f"{origin}: line {title_number} should be a title but is empty")
        snapshot_id = f"snapshot:{title_key(title)[:16]}"
        yield PaperRecord(paper_id=snapshot_id, source_id=snapshot_id, title=title, abstract=abstract)
        first = False
        number, line = next(lines, (number, None))


def page_lines(pieces: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, line) of a text given in pieces, split at "\n" ("\r\n" is one), without trailing blank lines."""
    blank: list[tuple[int, str]] = []
    for number, line in enumerate(split_lines(pieces), start=1):
        if line.strip():
            yield from blank
            blank.clear()
            yield number, line
        else:
            blank.append((number, line))


def split_lines(pieces: Iterable[str]) -> Iterator[str]:
    """The lines of a text given in pieces, as `text.replace("\r\n", "\n").split("\n")` would give them."""
    rest = ""
    for piece in pieces:
        *lines, rest = (rest + piece).split("\n")
        for line in lines:
            yield line[:-1] if line.endswith("\r") else line
    yield rest
