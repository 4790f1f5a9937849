"""The arXiv OAI-PMH source (`sources/arxiv_oai.py`) against a local server answering in OAI-PMH's recorded format."""

from __future__ import annotations

import pytest

from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.sources import load_source
from paperlake.sources.http import FetchError
from tests.support.http_sources import DAY, NOT_ATOM, run_fetch
from tests.support.recorded_http import fixture, serve


def test_oai_follows_two_resumption_tokens(env, httpserver):
    def answer(request, n):
        token = request.args.get("resumptionToken")
        page = {None: "list-1", "tok-1|2": "list-2", "tok-2|4": "list-3"}[token]
        return 200, fixture(f"oai/{page}.xml"), {"Content-Type": "text/xml"}

    script = serve(httpserver, "/oai", answer)
    _, lake, summary, clock = run_fetch(env, "arxiv_oai")
    first = script.requests[0].args
    assert (first["verb"], first["metadataPrefix"], first["set"], first["from"], first["until"]) == (
        "ListRecords",
        "arXiv",
        "cs",
        "2026-11-26",
        "2026-11-26",
    )
    assert dict(script.requests[1].args) == {"verb": "ListRecords", "resumptionToken": "tok-1|2"}
    assert clock.sleeps == [3.0, 3.0]
    records = load_source("arxiv_oai").parse(lake.read_raw("arxiv_oai", DAY, summary.run_id))
    # the deleted record is skipped
    assert [r.paper_id for r in records] == [
        "2611.01234",
        "2611.02222",
        "hep-th/9901001",
        "2611.04444",
    ]
    assert records[0].authors == ["Ada Lovelace (Analytical Engine Lab)", "Alan M. Turing"]
    assert (
        records[0].categories == ["cs.CL", "cs.LG"] and records[0].published.isoformat() == "2026-11-20T00:00:00+00:00"
    )


def test_oai_no_records_match_is_an_empty_interval(env, httpserver):
    serve(httpserver, "/oai", lambda request, n: (200, fixture("oai/no-records.xml"), {}))
    _, lake, summary, _ = run_fetch(env, "arxiv_oai")
    assert summary.rows == 1 and load_source("arxiv_oai").parse(lake.read_raw("arxiv_oai", DAY, summary.run_id)) == []

OAI = 'xmlns="http://www.openarchives.org/OAI/2.0/"'

@pytest.mark.parametrize(
    "body, problem",
    [
        (NOT_ATOM, r"is not an OAI-PMH response: its root element is \{http://www.w3.org/1999/xhtml\}html"),
        (
            f"<OAI-PMH {OAI}><responseDate>2026-11-27T06:00:00Z</responseDate></OAI-PMH>".encode(),
            "has neither ListRecords nor an OAI error",
        ),
        (
            f'<OAI-PMH {OAI}><error code="badResumptionToken">expired</error></OAI-PMH>'.encode(),
            "answered OAI error 'badResumptionToken': expired",
        ),
    ],
    ids=["not OAI-PMH", "no ListRecords", "error code"],
)
def test_an_oai_answer_that_is_not_a_record_list_fails_the_fetch_and_the_reparse(env, httpserver, body, problem):
    serve(httpserver, "/oai", lambda request, n: (200, body, {}))
    with pytest.raises(FetchError, match=rf"arxiv_oai 2026-11-26: http://.*/oai\?verb=ListRecords.* {problem}"):
        run_fetch(env, "arxiv_oai")
    with pytest.raises(ParseError, match=rf"https://oai.example/oai\?verb=ListRecords {problem}"):
        load_source("arxiv_oai").parse([RawPage(name="list-0001.xml", body=body, url="https://oai.example/oai?verb=ListRecords")])
