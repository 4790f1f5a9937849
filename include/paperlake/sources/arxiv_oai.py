"""arXiv OAI-PMH bulk harvest (`ListRecords`, metadataPrefix=arXiv) for historical backfills.

OAI datestamps are *last-modified* dates: a harvest of day D returns papers created or updated
on D, not only those submitted then. Flow control: 503 + Retry-After (see `sources.http`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import FetchRequest, data_pages
from paperlake.sources.arxiv_ids import parse_arxiv_id
from paperlake.sources.fields import author_label, xml_text
from paperlake.sources.http import FetchError, Fetcher

NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "arXiv": "http://arxiv.org/OAI/arXiv/"}


def min_interval(http) -> float:
    return http.arxiv_min_interval


def fetch(request: FetchRequest, fetcher: Fetcher) -> None:
    """Follow resumption tokens until the list is complete."""
    http = request.settings.http
    days = request.days()
    params = {
        "verb": "ListRecords", "metadataPrefix": "arXiv", "set": http.arxiv_oai_set,
        "from": days[0].isoformat(), "until": days[-1].isoformat(),
    }
    page = 1
    while True:
        response = fetcher.get(http.arxiv_oai_url, params, f"list-{page:04d}.xml")
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as err:
            raise FetchError(f"arxiv_oai {request.day}: unparseable XML from {response.request.url}: {err}") from err
        error = root.find("oai:error", NS)
        if error is not None:
            if error.get("code") == "noRecordsMatch":
                return
            raise FetchError(f"arxiv_oai {request.day}: OAI error {error.get('code')!r} from {response.request.url}: {error.text}")
        token = root.findtext("oai:ListRecords/oai:resumptionToken", "", NS).strip()
        if not token:
            return
        params = {"verb": "ListRecords", "resumptionToken": token}
        page += 1


def parse(pages: list[RawPage]) -> list[PaperRecord]:
    """Every non-deleted record of every page."""
    records = []
    for page in data_pages(pages):
        for record in ET.fromstring(page.body).findall("oai:ListRecords/oai:record", NS):
            header = record.find("oai:header", NS)
            if header is not None and header.get("status") == "deleted":
                continue
            records.append(parse_metadata(record.find("oai:metadata/arXiv:arXiv", NS)))
    return records


def parse_metadata(meta: ET.Element) -> PaperRecord:
    """One `arXiv`-format metadata block (no version: the format describes the paper, not a version)."""
    paper_id, _ = parse_arxiv_id(meta.findtext("arXiv:id", "", NS))
    authors = []
    for author in meta.findall("arXiv:authors/arXiv:author", NS):
        name = " ".join(filter(None, (author.findtext(f"arXiv:{part}", "", NS).strip() for part in ("forenames", "keyname", "suffix"))))
        affs = [a.text.strip() for a in author.findall("arXiv:affiliation", NS) if a.text]
        authors.append(author_label(name, affs))
    categories = (meta.findtext("arXiv:categories", "", NS) or "").split()
    created = _date(meta.findtext("arXiv:created", None, NS))
    return PaperRecord(
        paper_id=paper_id,
        source_id=paper_id,
        title=meta.findtext("arXiv:title", "", NS),
        abstract=meta.findtext("arXiv:abstract", "", NS),
        authors=authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=created,
        updated=_date(meta.findtext("arXiv:updated", None, NS)) or created,
        doi=xml_text(meta, "arXiv:doi", NS),
        journal_ref=xml_text(meta, "arXiv:journal-ref", NS),
        comment=xml_text(meta, "arXiv:comments", NS),
        abs_url=f"https://arxiv.org/abs/{paper_id}",
        pdf_url=f"https://arxiv.org/pdf/{paper_id}",
    )


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.strip() + "T00:00:00+00:00") if value and value.strip() else None
