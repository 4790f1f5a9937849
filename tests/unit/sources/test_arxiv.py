"""The arXiv API source (`sources/arxiv.py`) against a local server answering in the API's recorded format."""

from __future__ import annotations

import pytest

from paperlake.commit import committed_run
from paperlake.config import Settings
from paperlake.errors import ParseError
from paperlake.lake import Lake, RawPage
from paperlake.pipeline import commit_stage, ingest, parse_stage, tag_stage, validate_stage
from paperlake.sources import load_source
from paperlake.sources.http import FetchError
from tests.support.http_sources import DAY, NOT_ATOM, run_fetch
from tests.support.recorded_http import arxiv_answer, fixture, serve


def test_arxiv_pages_until_total_results_politely_and_lands_every_response(env, httpserver):
    script = serve(httpserver, "/api/query", arxiv_answer)
    settings, lake, summary, clock = run_fetch(env, "arxiv")
    assert [(r.args["start"], r.args["max_results"]) for r in script.requests] == [("0", "1"), ("0", "2"), ("2", "2")]
    first = script.requests[0]
    assert first.args["search_query"] == "(cat:cs.CL OR cat:cs.LG) AND submittedDate:[202611260000 TO 202611262359]"
    assert first.headers["User-Agent"].startswith("paperlake/")
    # one request every 3 s: the limiter slept exactly what was missing before each later request
    assert clock.sleeps == [3.0, 3.0]
    pages = lake.read_raw("arxiv", DAY, summary.run_id)
    assert [(p.role, p.status) for p in pages] == [("probe", 200), ("data", 200), ("data", 200)]
    assert pages[1].body == fixture("arxiv/page1.xml") and "start=0" in pages[1].url
    assert pages[1].headers["content-type"] == "application/atom+xml"
    manifest = lake.read_raw_manifest("arxiv", DAY, summary.run_id)
    assert (
        manifest["interval_start"] == "2026-11-26T00:00:00+00:00"
        and manifest["interval_end"] == "2026-11-27T00:00:00+00:00"
    )

    records = load_source("arxiv").parse(pages)
    assert [(r.paper_id, r.version) for r in records] == [("2611.01234", 2), ("hep-th/9901001", 1), ("2611.05678", 1)]
    first_record = records[0]
    assert first_record.title.startswith("Speculative Decoding with $\\mathcal{O}(1)$ Draft Cost\n  for")
    assert "latency by 2$\\times$ on GSM8K" in first_record.abstract
    assert first_record.authors == ["Ada Lovelace (Analytical Engine Lab)", "Alan Turing"]
    assert (first_record.primary_category, first_record.categories) == ("cs.CL", ["cs.CL", "cs.LG"])
    assert (first_record.doi, first_record.journal_ref, first_record.comment) == (
        "10.1000/xyz123",
        "Proc. Imaginary Conf. 2026",
        "12 pages, 3 figures",
    )
    assert first_record.abs_url == "http://arxiv.org/abs/2611.01234v2" and first_record.pdf_url == "http://arxiv.org/pdf/2611.01234v2"
    assert first_record.published.isoformat() == "2026-11-26T09:30:00+00:00"

def test_arxiv_empty_first_page_is_asked_again_before_it_is_believed(env, httpserver):
    def answer(request, n):
        return (200, fixture("arxiv/empty.xml"), {}) if n == 1 else arxiv_answer(request, n)

    script = serve(httpserver, "/api/query", answer)
    _, lake, summary, _ = run_fetch(env, "arxiv")
    assert len(script.requests) == 4
    assert len(load_source("arxiv").parse(lake.read_raw("arxiv", DAY, summary.run_id))) == 3

def test_arxiv_empty_interval_writes_empty_partitions_and_succeeds(env, httpserver):
    script = serve(httpserver, "/api/query", lambda request, n: (200, fixture("arxiv/empty.xml"), {}))
    settings, lake, summary, _ = run_fetch(env, "arxiv")
    assert len(script.requests) == 3  # the empty answer was asked twice more
    assert [
        stage(settings, "arxiv", DAY, summary.run_id).rows for stage in (parse_stage, validate_stage, tag_stage)
    ] == [0, 0, 0]
    commit_stage(settings, "arxiv", DAY, summary.run_id)
    assert lake.read_table("quarantine", "arxiv", DAY, run_id=committed_run(lake, 'arxiv', DAY)).num_rows == 0

def test_a_window_over_the_result_cap_is_split_in_halves(env, httpserver):
    def answer(request, n):
        if "submittedDate:[202611260000 TO 202611262359]" in request.args["search_query"]:
            return (
                200,
                fixture("arxiv/page1.xml").replace(
                    b">3</opensearch:totalResults>", b">40000</opensearch:totalResults>"
                ),
                {},
            )
        return arxiv_answer(request, n)

    script = serve(httpserver, "/api/query", answer)
    run_fetch(env, "arxiv")
    windows = [
        r.args["search_query"].split("submittedDate:")[1] for r in script.requests if r.args["max_results"] == "1"
    ]
    assert windows == [
        "[202611260000 TO 202611262359]",
        "[202611260000 TO 202611261159]",
        "[202611261200 TO 202611262359]",
    ]


def test_malformed_xml_fails_naming_the_url_and_keeps_the_body(env, httpserver):
    serve(httpserver, "/api/query", lambda request, n: (200, fixture("arxiv/malformed.xml"), {}))
    with pytest.raises(FetchError, match=r"arxiv 2026-11-26: unparseable XML from http://.*/api/query\?search_query="):
        run_fetch(env, "arxiv")
    lake = Lake.from_settings(Settings.from_env(env))
    errors = lake.store.list("raw_errors/source=arxiv/date=2026-11-26")
    assert any(key.endswith(".xml") for key in errors)
    assert not lake.store.list("raw/source=arxiv/date=2026-11-26")

NOT_ATOM = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>Rate exceeded.</body></html>'

def test_an_arxiv_answer_that_is_not_an_atom_feed_fails_the_fetch_instead_of_an_empty_day(env, httpserver):
    serve(httpserver, "/api/query", lambda request, n: (200, NOT_ATOM, {}))
    with pytest.raises(
        FetchError,
        match=r"arxiv 2026-11-26: http://.*/api/query\?search_query=.* is not an Atom feed: its root element is \{http://www.w3.org/1999/xhtml\}html",
    ):
        run_fetch(env, "arxiv")

def test_an_old_raw_arxiv_page_that_is_not_an_atom_feed_is_a_parse_error():
    with pytest.raises(
        ParseError,
        match=r"https://arxiv.example/api/query\?x=1 is not an Atom feed: its root element is \{http://www.w3.org/1999/xhtml\}html",
    ):
        load_source("arxiv").parse([RawPage(name="data-000000.xml", body=NOT_ATOM, url="https://arxiv.example/api/query?x=1")])

def test_a_failed_refetch_leaves_the_good_raw_partition_alone(env, httpserver):
    script = serve(httpserver, "/api/query", arxiv_answer)
    ingest(Settings.from_env(env), "arxiv", DAY)
    lake = Lake.from_settings(Settings.from_env(env))
    before = lake.read_raw("arxiv", DAY, committed_run(lake, 'arxiv', DAY))
    script.answer = lambda request, n: (404, b"gone", {})
    with pytest.raises(FetchError):
        run_fetch(env, "arxiv")
    assert lake.read_raw("arxiv", DAY, committed_run(lake, 'arxiv', DAY)) == before

def test_reparse_rebuilds_the_same_partitions_without_any_request(env, httpserver):
    script = serve(httpserver, "/api/query", arxiv_answer)
    settings = Settings.from_env(env)
    lake = Lake.from_settings(settings)
    ingest(settings, "arxiv", DAY)
    before = {
        layer: lake.read_table(layer, "arxiv", DAY, run_id=committed_run(lake, "arxiv", DAY))
        for layer in ("clean", "quarantine", "entities")
    }
    requests = len(script.requests)
    summaries = ingest(settings, "arxiv", DAY, reparse=True)
    assert len(script.requests) == requests
    assert summaries[0].counts["reparse"] == 1
    for layer, table in before.items():
        assert lake.read_table(layer, "arxiv", DAY, run_id=committed_run(lake, 'arxiv', DAY)).equals(table), layer
    assert before["clean"].num_rows == 3
