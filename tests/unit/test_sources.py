"""Every HTTP source against a local HTTP server serving recorded-format responses (no patching)."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest

from paperlake.commit import committed_run
from paperlake.clean import clean_records
from paperlake.config import Settings
from paperlake.errors import ParseError
from paperlake.lake import Lake, RawPage
from paperlake.pipeline import clean_stage, commit_stage, ingest, tag_stage, validate_stage
from paperlake.schemas import STAGED
from paperlake.sources import FetchRequest, fetch_partition, load_source, parse_partition
from paperlake.sources.http import FetchError, TransientHTTPError
from tests.support.clock import FakeClock
from tests.support.recorded_http import arxiv_answer, fixture, serve

DAY = date(2026, 11, 26)


@pytest.fixture
def env(tmp_path, httpserver) -> dict:
    base = httpserver.url_for("").rstrip("/")
    return {
        "PAPERLAKE_HOME": str(tmp_path / "home"),
        "PAPERLAKE_ARXIV_API_URL": f"{base}/api/query",
        "PAPERLAKE_ARXIV_OAI_URL": f"{base}/oai",
        "PAPERLAKE_HF_API_URL": base,
        "PAPERLAKE_ARXIV_CATEGORIES": "cs.CL,cs.LG",
        "PAPERLAKE_ARXIV_PAGE_SIZE": "2",
        "PAPERLAKE_HF_PAGE_SIZE": "2",
        "PAPERLAKE_HF_QUERIES": "inference,kernels",
        "PAPERLAKE_HTTP_MAX_ATTEMPTS": "4",
    }


def run_fetch(env: dict, source: str, clock: FakeClock | None = None):
    settings = Settings.from_env(env)
    clock = clock or FakeClock()
    lake = Lake.from_settings(settings)
    summary = fetch_partition(lake, source, FetchRequest.for_day(settings, DAY, clock=clock, sleep=clock.sleep))
    return settings, lake, summary, clock


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
    assert manifest["interval_start"] == "2026-11-26T00:00:00+00:00" and manifest["interval_end"] == "2026-11-27T00:00:00+00:00"

    records = load_source("arxiv").parse(pages)
    assert [(r.paper_id, r.version) for r in records] == [("2611.01234", 2), ("hep-th/9901001", 1), ("2611.05678", 1)]
    first_record = records[0]
    assert first_record.title.startswith("Speculative Decoding with $\\mathcal{O}(1)$ Draft Cost\n  for")
    assert "latency by 2$\\times$ on GSM8K" in first_record.abstract
    assert first_record.authors == ["Ada Lovelace (Analytical Engine Lab)", "Alan Turing"]
    assert (first_record.primary_category, first_record.categories) == ("cs.CL", ["cs.CL", "cs.LG"])
    assert (first_record.doi, first_record.journal_ref, first_record.comment) == ("10.1000/xyz123", "Proc. Imaginary Conf. 2026", "12 pages, 3 figures")
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
    assert [stage(settings, "arxiv", DAY, summary.run_id)["rows"] for stage in (clean_stage, validate_stage, tag_stage)] == [0, 0, 0]
    commit_stage(settings, "arxiv", DAY, summary.run_id)
    assert lake.read_table("quarantine", "arxiv", DAY, run_id=committed_run(lake, 'arxiv', DAY)).num_rows == 0


def test_429_and_503_wait_as_long_as_retry_after_says_then_succeed(env, httpserver):
    def answer(request, n):
        if n == 1:
            return 429, b"slow down", {"Retry-After": "7"}
        if n == 2:
            return 503, b"busy", {"Retry-After": "11"}
        return arxiv_answer(request, n)

    script = serve(httpserver, "/api/query", answer)
    _, lake, summary, clock = run_fetch(env, "arxiv")
    assert len(script.requests) == 5
    # Retry-After waits (7, 11) leave the 3 s spacing already satisfied; later requests are spaced by the limiter.
    assert clock.sleeps == [7.0, 11.0, 3.0, 3.0]
    pages = lake.read_raw("arxiv", DAY, summary.run_id)
    assert [(p.status, p.role) for p in pages][:2] == [(429, "error"), (503, "error")]
    assert len(load_source("arxiv").parse(pages)) == 3


def test_persistent_503_gives_up_after_max_attempts_with_backoff(env, httpserver):
    script = serve(httpserver, "/api/query", lambda request, n: (503, b"down", {}))
    with pytest.raises(TransientHTTPError, match="still failing after 4 attempts"):
        run_fetch(env, "arxiv")
    assert len(script.requests) == 4


def test_malformed_xml_fails_naming_the_url_and_keeps_the_body(env, httpserver):
    serve(httpserver, "/api/query", lambda request, n: (200, fixture("arxiv/malformed.xml"), {}))
    with pytest.raises(FetchError, match=r"arxiv 2026-11-26: unparseable XML from http://.*/api/query\?search_query="):
        run_fetch(env, "arxiv")
    lake = Lake.from_settings(Settings.from_env(env))
    errors = lake.store.list("raw_errors/source=arxiv/date=2026-11-26")
    assert any(key.endswith(".xml") for key in errors)
    assert not lake.store.list("raw/source=arxiv/date=2026-11-26")


def test_a_permanent_4xx_fails_at_once(env, httpserver):
    script = serve(httpserver, "/api/query", lambda request, n: (400, b"bad query", {}))
    with pytest.raises(FetchError, match=r"HTTP 400 from http://.*bad query"):
        run_fetch(env, "arxiv")
    assert len(script.requests) == 1


def test_a_failed_refetch_leaves_the_good_raw_partition_alone(env, httpserver):
    script = serve(httpserver, "/api/query", arxiv_answer)
    ingest(Settings.from_env(env), "arxiv", DAY)
    lake = Lake.from_settings(Settings.from_env(env))
    before = lake.read_raw("arxiv", DAY, committed_run(lake, 'arxiv', DAY))
    script.answer = lambda request, n: (404, b"gone", {})
    with pytest.raises(FetchError):
        run_fetch(env, "arxiv")
    assert lake.read_raw("arxiv", DAY, committed_run(lake, 'arxiv', DAY)) == before


def test_hf_daily_pages_until_a_short_page_and_quarantines_other_days(env, httpserver):
    def answer(request, n):
        assert request.args["date"] == "2026-11-26" and request.args["limit"] == "2"
        return 200, fixture(f"hf/daily-p{request.args['p']}.json"), {"Content-Type": "application/json"}

    script = serve(httpserver, "/api/daily_papers", answer)
    settings, lake, summary, clock = run_fetch(env, "hf_daily")
    assert [r.args["p"] for r in script.requests] == ["0", "1"]
    assert clock.sleeps == [0.5]
    parse_partition(lake, "hf_daily", DAY, summary.run_id)
    with pytest.raises(Exception, match="1 of 3 records rejected"):
        validate_stage(settings, "hf_daily", DAY, summary.run_id)
    quarantine = lake.read_table("quarantine", "hf_daily", DAY, run_id=summary.run_id).to_pylist()
    assert [(q["paper_id"], q["reason_codes"]) for q in quarantine] == [("2611.04444", ["outside_interval"])]
    clean = lake.read_table("clean", "hf_daily", DAY, run_id=summary.run_id).to_pylist()
    assert {c["paper_id"]: c["upvotes"] for c in clean} == {"2611.01234": 42, "2611.09999": 7}
    assert clean[0]["keywords"] == ["speculative decoding", "latency"] and clean[0]["authors"] == ["Ada Lovelace", "Alan Turing"]


def test_hf_429_waits_for_the_ratelimit_reset(env, httpserver):
    def answer(request, n):
        if n == 1:
            return 429, b"", {"RateLimit": '"api";r=0;t=42', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
        return 200, fixture(f"hf/daily-p{request.args['p']}.json"), {}

    serve(httpserver, "/api/daily_papers", answer)
    _, lake, summary, clock = run_fetch(env, "hf_daily")
    assert clock.sleeps[0] == 42.0
    assert len(load_source("hf_daily").parse(lake.read_raw("hf_daily", DAY, summary.run_id))) == 3


def test_hf_search_runs_every_query_and_repeats_are_quarantined_as_superseded(env, httpserver):
    script = serve(httpserver, "/api/papers/search", lambda request, n: (200, fixture(f"hf/search-{request.args['q']}.json"), {}))
    settings, lake, summary, _ = run_fetch(env, "hf_search")
    assert [r.args["q"] for r in script.requests] == ["inference", "kernels"]
    parse_partition(lake, "hf_search", DAY, summary.run_id)
    assert validate_stage(settings, "hf_search", DAY, summary.run_id)["counts"] == {"parsed": 3, "clean": 2, "quarantined": 1}
    assert lake.read_table("quarantine", "hf_search", DAY, run_id=summary.run_id).column("reason_codes").to_pylist() == [["superseded"]]


def test_oai_follows_two_resumption_tokens(env, httpserver):
    def answer(request, n):
        token = request.args.get("resumptionToken")
        page = {None: "list-1", "tok-1|2": "list-2", "tok-2|4": "list-3"}[token]
        return 200, fixture(f"oai/{page}.xml"), {"Content-Type": "text/xml"}

    script = serve(httpserver, "/oai", answer)
    _, lake, summary, clock = run_fetch(env, "arxiv_oai")
    first = script.requests[0].args
    assert (first["verb"], first["metadataPrefix"], first["set"], first["from"], first["until"]) == ("ListRecords", "arXiv", "cs", "2026-11-26", "2026-11-26")
    assert dict(script.requests[1].args) == {"verb": "ListRecords", "resumptionToken": "tok-1|2"}
    assert clock.sleeps == [3.0, 3.0]
    records = load_source("arxiv_oai").parse(lake.read_raw("arxiv_oai", DAY, summary.run_id))
    assert [r.paper_id for r in records] == ["2611.01234", "2611.02222", "hep-th/9901001", "2611.04444"]  # the deleted record is skipped
    assert records[0].authors == ["Ada Lovelace (Analytical Engine Lab)", "Alan M. Turing"]
    assert records[0].categories == ["cs.CL", "cs.LG"] and records[0].published.isoformat() == "2026-11-20T00:00:00+00:00"


def test_oai_no_records_match_is_an_empty_interval(env, httpserver):
    serve(httpserver, "/oai", lambda request, n: (200, fixture("oai/no-records.xml"), {}))
    _, lake, summary, _ = run_fetch(env, "arxiv_oai")
    assert summary.rows == 1 and load_source("arxiv_oai").parse(lake.read_raw("arxiv_oai", DAY, summary.run_id)) == []


def test_reparse_rebuilds_the_same_partitions_without_any_request(env, httpserver):
    script = serve(httpserver, "/api/query", arxiv_answer)
    settings = Settings.from_env(env)
    lake = Lake.from_settings(settings)
    ingest(settings, "arxiv", DAY)
    before = {layer: lake.read_table(layer, "arxiv", DAY, run_id=committed_run(lake, 'arxiv', DAY)) for layer in ("clean", "quarantine", "entities")}
    requests = len(script.requests)
    summaries = ingest(settings, "arxiv", DAY, reparse=True)
    assert len(script.requests) == requests
    assert summaries[0]["counts"]["reparse"] == 1
    for layer, table in before.items():
        assert lake.read_table(layer, "arxiv", DAY, run_id=committed_run(lake, 'arxiv', DAY)).equals(table), layer
    assert before["clean"].num_rows == 3


def test_snapshot_records_link_to_arxiv_ids_by_normalised_title(env, httpserver, tmp_path):
    serve(httpserver, "/api/query", arxiv_answer)
    settings = Settings.from_env(env)
    lake = Lake.from_settings(settings)
    ingest(settings, "arxiv", DAY)
    page = tmp_path / "page.txt"
    abstract = "An abstract long enough to pass validation, describing a low-rank adaptation study in some detail here."
    page.write_text(f"SubscribeLow-rank adaptation at scale\n{abstract}\nUnknown Paper\n{abstract}\n")
    settings = Settings.from_env(env | {"PAPERLAKE_SNAPSHOT_PATH": str(page)})
    run_id = fetch_partition(lake, "snapshot", FetchRequest.for_day(settings, DAY)).run_id
    assert parse_partition(lake, "snapshot", DAY, run_id).counts == {"linked_by_title": 1}
    staged = lake.read_table("staged", "snapshot", DAY, run_id=run_id).to_pylist()
    assert staged[0]["paper_id"] == "2611.05678" and staged[0]["source_id"].startswith("snapshot:")
    assert staged[1]["paper_id"] == staged[1]["source_id"]


def test_a_window_over_the_result_cap_is_split_in_halves(env, httpserver):
    def answer(request, n):
        if "submittedDate:[202611260000 TO 202611262359]" in request.args["search_query"]:
            return 200, fixture("arxiv/page1.xml").replace(b">3</opensearch:totalResults>", b">40000</opensearch:totalResults>"), {}
        return arxiv_answer(request, n)

    script = serve(httpserver, "/api/query", answer)
    run_fetch(env, "arxiv")
    windows = [r.args["search_query"].split("submittedDate:")[1] for r in script.requests if r.args["max_results"] == "1"]
    assert windows == ["[202611260000 TO 202611262359]", "[202611260000 TO 202611261159]", "[202611261200 TO 202611262359]"]


def test_a_timeout_is_retried(env, httpserver):
    import time

    def answer(request, n):
        if n == 1:
            time.sleep(1.5)
        return arxiv_answer(request, n)

    script = serve(httpserver, "/api/query", answer)
    _, lake, summary, clock = run_fetch(env | {"PAPERLAKE_HTTP_TIMEOUT": "0.5"}, "arxiv")
    # the single-threaded test server may also make the first retry wait past the timeout
    assert len(script.requests) >= 4
    assert 0 < clock.sleeps[0] <= 2 + 2  # backoff with jitter after the timeout, before the retry
    assert len(load_source("arxiv").parse(lake.read_raw("arxiv", DAY, summary.run_id))) == 3


# -- hostile answers: each used to fail the partition without naming the page, or to pass as an empty day --------

HF_URL = "https://hf.example/api/daily_papers?date=2026-11-26&limit=2&p=0"


def hf_page(items: list) -> RawPage:
    return RawPage(name="0001-2026-11-26-p000.json", body=json.dumps(items).encode(), url=HF_URL)


def hf_item(paper_id: str, **paper) -> dict:
    return {"paper": {"id": paper_id, "title": f"Paper {paper_id}", "summary": "An abstract.", "upvotes": 3, **paper}}


@pytest.mark.parametrize(
    "item, problem, title",
    [
        (hf_item("2611.00002", authors="x"), "field 'authors' should be an array of objects, got str 'x'", "Paper 2611.00002"),
        (hf_item("2611.00002", title=5), "field 'title' should be a string, got int 5", ""),
        (hf_item("2611.00002", upvotes="many"), "field 'upvotes' should be an integer, got str 'many'", "Paper 2611.00002"),
        (hf_item("2611.00002", upvotes=True), "field 'upvotes' should be an integer, got bool True", "Paper 2611.00002"),
        (hf_item("2611.00002", ai_keywords="latency"), "field 'ai_keywords' should be an array of strings, got str 'latency'", "Paper 2611.00002"),
        (hf_item("2611.00002", publishedAt="yesterday"), "field 'publishedAt' should be an ISO-8601 timestamp, got str 'yesterday'", "Paper 2611.00002"),
        ({"paper": "str", "title": "Top-level title"}, "field 'paper' should be an object, got str 'str'", "Top-level title"),
    ],
    ids=["authors", "title", "upvotes", "upvotes bool", "ai_keywords", "publishedAt", "paper"],
)
def test_a_wrong_typed_hf_item_is_a_row_saying_why_and_its_neighbours_are_read(item, problem, title):
    records = load_source("hf_daily").parse([hf_page([hf_item("2611.00001"), item, hf_item("2611.00003")])])
    assert [r.parse_error for r in (records[0], records[2])] == [None, None]
    bad = records[1]
    assert bad.parse_error == f"item 1 of {HF_URL}: {problem}"
    assert (bad.paper_id, bad.title) == ("2611.00002" if item.get("paper") != "str" else None, title)
    assert pa.Table.from_pylist(list(clean_records(records)), schema=STAGED).num_rows == 3


def test_an_hf_item_that_is_not_an_object_is_a_row_saying_so():
    (first, bad) = load_source("hf_search").parse([hf_page([hf_item("2611.00001"), ["a", "list"]])])
    assert first.parse_error is None
    assert (bad.paper_id, bad.title, bad.abstract) == (None, "", "")
    assert bad.parse_error == f"item 1 of {HF_URL}: should be an object, got list ['a', 'list']"


@pytest.mark.parametrize(
    "body, problem",
    [(b'{"error": "rate limited"}', "expected a JSON list of items, got dict"), (b'[1, "two", null]', "none of the 3 items is a JSON object")],
    ids=["object", "list of scalars"],
)
def test_an_hf_answer_that_is_not_a_list_of_items_fails_the_fetch_naming_the_url(env, httpserver, body, problem):
    serve(httpserver, "/api/papers/search", lambda request, n: (200, body, {}))
    with pytest.raises(FetchError, match=rf"hf_search 2026-11-26: http://.*/api/papers/search\?q=inference: {problem}"):
        run_fetch(env, "hf_search")
    with pytest.raises(ParseError, match=problem):
        load_source("hf_search").parse([RawPage(name="search.json", body=body, url=HF_URL)])


NOT_ATOM = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>Rate exceeded.</body></html>'


def test_an_arxiv_answer_that_is_not_an_atom_feed_fails_the_fetch_instead_of_an_empty_day(env, httpserver):
    serve(httpserver, "/api/query", lambda request, n: (200, NOT_ATOM, {}))
    with pytest.raises(FetchError, match=r"arxiv 2026-11-26: http://.*/api/query\?search_query=.* is not an Atom feed: its root element is \{http://www.w3.org/1999/xhtml\}html"):
        run_fetch(env, "arxiv")


def test_an_old_raw_arxiv_page_that_is_not_an_atom_feed_is_a_parse_error():
    with pytest.raises(ParseError, match=r"https://arxiv.example/api/query\?x=1 is not an Atom feed: its root element is \{http://www.w3.org/1999/xhtml\}html"):
        load_source("arxiv").parse([RawPage(name="data-000000.xml", body=NOT_ATOM, url="https://arxiv.example/api/query?x=1")])


OAI = 'xmlns="http://www.openarchives.org/OAI/2.0/"'


@pytest.mark.parametrize(
    "body, problem",
    [
        (NOT_ATOM, r"is not an OAI-PMH response: its root element is \{http://www.w3.org/1999/xhtml\}html"),
        (f"<OAI-PMH {OAI}><responseDate>2026-11-27T06:00:00Z</responseDate></OAI-PMH>".encode(), "has neither ListRecords nor an OAI error"),
        (f'<OAI-PMH {OAI}><error code="badResumptionToken">expired</error></OAI-PMH>'.encode(), "answered OAI error 'badResumptionToken': expired"),
    ],
    ids=["not OAI-PMH", "no ListRecords", "error code"],
)
def test_an_oai_answer_that_is_not_a_record_list_fails_the_fetch_and_the_reparse(env, httpserver, body, problem):
    serve(httpserver, "/oai", lambda request, n: (200, body, {}))
    with pytest.raises(FetchError, match=rf"arxiv_oai 2026-11-26: http://.*/oai\?verb=ListRecords.* {problem}"):
        run_fetch(env, "arxiv_oai")
    with pytest.raises(ParseError, match=rf"https://oai.example/oai\?verb=ListRecords {problem}"):
        load_source("arxiv_oai").parse([RawPage(name="list-0001.xml", body=body, url="https://oai.example/oai?verb=ListRecords")])


def test_a_wrong_typed_hf_item_is_quarantined_as_malformed_and_the_partition_stays_good(env, httpserver):
    items = json.loads(fixture("hf/daily-p0.json"))  # two papers
    items[1]["paper"]["upvotes"] = "many"
    serve(httpserver, "/api/papers/search", lambda request, n: (200, json.dumps(items).encode(), {}))
    settings, lake, summary, _ = run_fetch(env | {"PAPERLAKE_HF_QUERIES": "inference", "PAPERLAKE_MAX_QUARANTINE_SHARE": "1"}, "hf_search")
    parse_partition(lake, "hf_search", DAY, summary.run_id)
    assert validate_stage(settings, "hf_search", DAY, summary.run_id)["counts"] == {"parsed": 2, "clean": 1, "quarantined": 1}
    (quarantined,) = lake.read_table("quarantine", "hf_search", DAY, run_id=summary.run_id).to_pylist()
    assert (quarantined["paper_id"], quarantined["reason_codes"]) == (items[1]["paper"]["id"], ["malformed_item"])
    assert quarantined["parse_error"].endswith("/api/papers/search?q=inference: field 'upvotes' should be an integer, got str 'many'")
