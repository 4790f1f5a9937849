"""The HF daily papers source (`sources/hf_daily.py`, items read by `sources/huggingface.py`) against a local server."""

from __future__ import annotations

import pyarrow as pa
import pytest

from paperlake.clean import clean_records
from paperlake.pipeline import validate_stage
from paperlake.schemas import PARSED
from paperlake.sources import load_source, parse_partition
from tests.support.http_sources import DAY, HF_URL, hf_item, hf_page, run_fetch
from tests.support.recorded_http import fixture, serve


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
    assert clean[0]["keywords"] == ["speculative decoding", "latency"] and clean[0]["authors"] == [
        "Ada Lovelace",
        "Alan Turing",
    ]


def test_hf_429_waits_for_the_ratelimit_reset(env, httpserver):
    def answer(request, n):
        if n == 1:
            return 429, b"", {"RateLimit": '"api";r=0;t=42', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
        return 200, fixture(f"hf/daily-p{request.args['p']}.json"), {}

    serve(httpserver, "/api/daily_papers", answer)
    _, lake, summary, clock = run_fetch(env, "hf_daily")
    assert clock.sleeps[0] == 42.0
    assert len(load_source("hf_daily").parse(lake.read_raw("hf_daily", DAY, summary.run_id))) == 3

@pytest.mark.parametrize(
    "item, problem, title",
    [
        (
            hf_item("2611.00002", authors="x"),
            "field 'authors' should be an array of objects, got str 'x'",
            "Paper 2611.00002",
        ),
        (hf_item("2611.00002", title=5), "field 'title' should be a string, got int 5", ""),
        (
            hf_item("2611.00002", upvotes="many"),
            "field 'upvotes' should be an integer, got str 'many'",
            "Paper 2611.00002",
        ),
        (
            hf_item("2611.00002", upvotes=True),
            "field 'upvotes' should be an integer, got bool True",
            "Paper 2611.00002",
        ),
        (
            hf_item("2611.00002", ai_keywords="latency"),
            "field 'ai_keywords' should be an array of strings, got str 'latency'",
            "Paper 2611.00002",
        ),
        (
            hf_item("2611.00002", publishedAt="yesterday"),
            "field 'publishedAt' should be an ISO-8601 timestamp, got str 'yesterday'",
            "Paper 2611.00002",
        ),
        (
            {"paper": "str", "title": "Top-level title"},
            "field 'paper' should be an object, got str 'str'",
            "Top-level title",
        ),
    ],
    ids=["authors", "title", "upvotes", "upvotes bool", "ai_keywords", "publishedAt", "paper"],
)
def test_a_wrong_typed_hf_item_is_a_row_saying_why_and_its_neighbours_are_read(item, problem, title):
    records = load_source("hf_daily").parse([hf_page([hf_item("2611.00001"), item, hf_item("2611.00003")])])
    assert [r.parse_error for r in (records[0], records[2])] == [None, None]
    bad = records[1]
    assert bad.parse_error == f"item 1 of {HF_URL}: {problem}"
    assert (bad.paper_id, bad.title) == ("2611.00002" if item.get("paper") != "str" else None, title)
    assert pa.Table.from_pylist(list(clean_records(records)), schema=PARSED).num_rows == 3
