"""arXiv OAI-PMH bulk harvest (`ListRecords`, metadataPrefix=arXiv) for historical backfills.

OAI datestamps are *last-modified* dates: a harvest of day D returns papers created or updated
on D, not only those submitted then. Flow control: 503 + Retry-After (see `sources.http`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from paperlake.arxiv_ids import read_arxiv_id
from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.records import PaperRecord
from paperlake.sources import FetchRequest, data_pages
from paperlake.sources.fields import FieldReader, author_label, xml_text
from paperlake.sources.http import Fetcher, FetchError
from paperlake.sources.pages import read_xml

NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "arXiv": "http://arxiv.org/OAI/arXiv/"}
OAI_PMH = "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"


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
            root = read_oai_page(response.content, str(response.request.url))
        except ParseError as err:
            raise FetchError(f"arxiv_oai {request.day}: {err}") from err
        token = root.findtext("oai:ListRecords/oai:resumptionToken", "", NS).strip()  # none after noRecordsMatch
        if not token:
            return
        params = {"verb": "ListRecords", "resumptionToken": token}
        page += 1


def read_oai_page(body: bytes, url: str) -> ET.Element:
    """The root of a ListRecords answer (noRecordsMatch is an empty list); a ParseError if the page is anything else."""
    root = read_xml(body, url)
    if root.tag != OAI_PMH:
        raise ParseError(f"{url} is not an OAI-PMH response: its root element is {root.tag}")
    error = root.find("oai:error", NS)
    if error is not None and error.get("code") != "noRecordsMatch":
        raise ParseError(f"{url} answered OAI error {error.get('code')!r}: {error.text}")
    if error is None and root.find("oai:ListRecords", NS) is None:
        raise ParseError(f"{url} has neither ListRecords nor an OAI error")
    return root


def parse(pages: list[RawPage]) -> list[PaperRecord]:
    """Every non-deleted record of every page."""
    records = []
    for page in data_pages(pages):
        for n, record in enumerate(read_oai_page(page.body, page.url).findall("oai:ListRecords/oai:record", NS)):
            header = record.find("oai:header", NS)
            if header is not None and header.get("status") == "deleted":
                continue
            records.append(parse_record(record, f"record {n} of {page.url}"))
    return records


def parse_record(record: ET.Element, where: str) -> PaperRecord:
    """One record's `arXiv`-format metadata (no version: the format describes the paper, not a version).

    A record without that metadata keeps its header's id; it and an unreadable date are a parse_error.
    """
    fields = FieldReader(where)
    meta = record.find("oai:metadata/arXiv:arXiv", NS)
    if meta is None:
        paper_id, _ = read_arxiv_id(record.findtext("oai:header/oai:identifier", "", NS))
        fields.note("no arXiv-format metadata")
        return PaperRecord(paper_id=paper_id, source_id=paper_id, title="", abstract="", parse_error=fields.parse_error)
    paper_id, _ = read_arxiv_id(meta.findtext("arXiv:id", "", NS))  # validation quarantines other ids
    authors = []
    for author in meta.findall("arXiv:authors/arXiv:author", NS):
        name = " ".join(
            filter(
                None, (author.findtext(f"arXiv:{part}", "", NS).strip() for part in ("forenames", "keyname", "suffix"))
            )
        )
        affs = [a.text.strip() for a in author.findall("arXiv:affiliation", NS) if a.text]
        authors.append(author_label(name, affs))
    categories = (meta.findtext("arXiv:categories", "", NS) or "").split()
    created = fields.day("created", meta.findtext("arXiv:created", None, NS))
    return PaperRecord(
        paper_id=paper_id,
        source_id=paper_id,
        title=meta.findtext("arXiv:title", "", NS),
        abstract=meta.findtext("arXiv:abstract", "", NS),
        authors=authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=created,
        updated=fields.day("updated", meta.findtext("arXiv:updated", None, NS)) or created,
        doi=xml_text(meta, "arXiv:doi", NS),
        journal_ref=xml_text(meta, "arXiv:journal-ref", NS),
        comment=xml_text(meta, "arXiv:comments", NS),
        abs_url=f"https://arxiv.org/abs/{paper_id}" if paper_id else None,
        pdf_url=f"https://arxiv.org/pdf/{paper_id}" if paper_id else None,
        parse_error=fields.parse_error,  # last: read after every field
    )
