"""The canonical paper record every source parses into."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass
class PaperRecord:
    """One paper as a source described it; text fields are as fetched until the parse stage cleans them."""

    paper_id: str | None
    title: str
    abstract: str
    source_id: str | None = None
    version: int | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    # When the source listed the paper in the fetched interval (arXiv submission, HF daily slot):
    # validation quarantines records whose listing falls outside the run's interval.
    listed_at: datetime | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    upvotes: int | None = None
    github_repo: str | None = None
    keywords: list[str] = field(default_factory=list)
    # Why the source's item could not be read as a paper (a field of the wrong type, ...): such a
    # record keeps what could be read and validation quarantines it as `malformed_item`.
    parse_error: str | None = None

    def to_row(self) -> dict:
        """A dict keyed like the `parsed` schema's source columns."""
        return asdict(self)
