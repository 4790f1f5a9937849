"""The Hugging Face papers search source (`sources/hf_search.py`) against a local server."""

from __future__ import annotations

import json

import pytest

from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.pipeline import validate_stage
from paperlake.sources import load_source, parse_partition
from paperlake.sources.http import FetchError
from tests.support.http_sources import DAY, HF_URL, hf_item, hf_page, run_fetch
from tests.support.recorded_http import fixture, serve


def test_hf_search_runs_every_query_and_repeats_are_quarantined_as_superseded(env, httpserver):
    script = serve(
        httpserver, "/api/papers/search", lambda request, n: (200, fixture(f"hf/search-{request.args['q']}.json"), {})
    )
    settings, lake, summary, _ = run_fetch(env, "hf_search")
    assert [r.args["q"] for r in script.requests] == ["inference", "kernels"]
    parse_partition(lake, "hf_search", DAY, summary.run_id)
    assert validate_stage(settings, "hf_search", DAY, summary.run_id).counts == {
        "parsed": 3,
        "clean": 2,
        "quarantined": 1,
    }
    assert lake.read_table("quarantine", "hf_search", DAY, run_id=summary.run_id).column(
        "reason_codes"
    ).to_pylist() == [["superseded"]]


def test_an_hf_item_that_is_not_an_object_is_a_row_saying_so():
    (first, bad) = load_source("hf_search").parse([hf_page([hf_item("2611.00001"), ["a", "list"]])])
    assert first.parse_error is None
    assert (bad.paper_id, bad.title, bad.abstract) == (None, "", "")
    assert bad.parse_error == f"item 1 of {HF_URL}: should be an object, got list ['a', 'list']"

@pytest.mark.parametrize(
    "body, problem",
    [
        (b'{"error": "rate limited"}', "expected a JSON list of items, got dict"),
        (b'[1, "two", null]', "none of the 3 items is a JSON object"),
    ],
    ids=["object", "list of scalars"],
)
def test_an_hf_answer_that_is_not_a_list_of_items_fails_the_fetch_naming_the_url(env, httpserver, body, problem):
    serve(httpserver, "/api/papers/search", lambda request, n: (200, body, {}))
    with pytest.raises(FetchError, match=rf"hf_search 2026-11-26: http://.*/api/papers/search\?q=inference: {problem}"):
        run_fetch(env, "hf_search")
    with pytest.raises(ParseError, match=problem):
        load_source("hf_search").parse([RawPage(name="search.json", body=body, url=HF_URL)])

def test_a_wrong_typed_hf_item_is_quarantined_as_malformed_and_the_partition_stays_good(env, httpserver):
    items = json.loads(fixture("hf/daily-p0.json"))  # two papers
    items[1]["paper"]["upvotes"] = "many"
    serve(httpserver, "/api/papers/search", lambda request, n: (200, json.dumps(items).encode(), {}))
    settings, lake, summary, _ = run_fetch(
        env | {"PAPERLAKE_HF_QUERIES": "inference", "PAPERLAKE_MAX_QUARANTINE_SHARE": "1"}, "hf_search"
    )
    parse_partition(lake, "hf_search", DAY, summary.run_id)
    assert validate_stage(settings, "hf_search", DAY, summary.run_id).counts == {
        "parsed": 2,
        "clean": 1,
        "quarantined": 1,
    }
    (quarantined,) = lake.read_table("quarantine", "hf_search", DAY, run_id=summary.run_id).to_pylist()
    assert (quarantined["paper_id"], quarantined["reason_codes"]) == (items[1]["paper"]["id"], ["malformed_item"])
    assert quarantined["parse_error"].endswith(
        "/api/papers/search?q=inference: field 'upvotes' should be an integer, got str 'many'"
    )
