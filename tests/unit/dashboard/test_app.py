"""The paperlake page's data functions and views, on real marts built from a small lake (tests/support/page_lake.py)."""

import pytest

from paperlake.dashboard import queries
from paperlake.dashboard.app import create_app
from tests.support.page_lake import RUN_R, R, before, build_page_lake


@pytest.fixture
def page_lake(lake, settings):
    build_page_lake(lake, settings)
    return lake


@pytest.fixture
def con(page_lake, settings):
    from paperlake.readonly import open_marts_readonly

    con = open_marts_readonly(settings)
    yield con
    con.close()


def test_health_pages_by_date_newest_first_with_gaps_counts_and_runs(con):
    first = queries.health(con, page=1, days=3)
    assert (first.total, first.pages) == (11, 4)  # R-10 .. R
    # hf_daily's dates start at its first partition
    assert [(r.date, r.source, r.present) for r in first.rows] == [
        (R, "arxiv", True),
        (R, "hf_daily", True),
        (before(1), "arxiv", True),
        (before(2), "arxiv", False),
    ]
    arxiv_r = first.rows[0]
    assert (arxiv_r.parsed, arxiv_r.clean, arxiv_r.quarantined, arxiv_r.papers_with_entities, arxiv_r.entity_spans) == (
        3,
        1,
        2,
        1,
        2,
    )
    assert arxiv_r.quarantined_by_reason == {"abstract_length": 1, "not_english": 2}
    assert (arxiv_r.validation_success, arxiv_r.airflow_run_id) == (False, RUN_R)
    last = queries.health(con, page=4, days=3)
    assert [(r.date, r.source, r.present) for r in last.rows] == [
        (before(9), "arxiv", False),
        (before(10), "arxiv", True),
    ]


def test_trending_entities_by_lift_with_zero_filled_daily_series(con):
    page = queries.trending_entities(con)
    assert [(e.rank, e.entity_id, e.label, e.recent_papers, e.baseline_papers, e.lift) for e in page.rows] == [
        (1, "MMLU", "DATASET", 3, 0, 12.0), (2, "LoRA", "METHOD", 2, 0, 8.0), (3, "BERT", "MODEL", 2, 1, 4.0),
    ]
    mmlu = page.rows[0].series
    assert len(mmlu) == queries.TREND_DAYS and (mmlu[0][0], mmlu[-1][0]) == (before(34), R)
    assert {day: n for day, n in mmlu if n} == {before(3): 1, before(1): 1, R: 1}
    assert [e.entity_id for e in queries.trending_entities(con, label="MODEL").rows] == ["BERT"]
    assert queries.trending_labels(con) == ["DATASET", "METHOD", "MODEL"]
    second = queries.trending_entities(con, page=2, size=2)
    assert ([e.entity_id for e in second.rows], second.total, second.pages) == (["BERT"], 3, 2)


def test_trending_papers_with_their_entities(con):
    rows = queries.trending_papers(con).rows
    assert [(p.rank, p.paper_id, p.trending_entities) for p in rows][:2] == [
        (1, "p4", ["MMLU", "LoRA"]),
        (2, "p3", ["MMLU", "LoRA"]),
    ]
    assert rows[0].upvotes == 5


def test_entity_page_spellings_series_partners_and_papers(con):
    lora = queries.entity(con, "LoRA")
    assert (lora.label, lora.aliases, lora.n_papers, lora.first_seen, lora.last_seen) == (
        "METHOD",
        ["LoRA", "lora"],
        2,
        before(1),
        R,
    )
    assert (len(lora.series), lora.series[0][0], [(day, n) for day, n in lora.series if n]) == (
        queries.TREND_DAYS,
        before(34),
        [(before(1), 1), (R, 1)],
    )
    assert [(p.entity_id, p.n_papers) for p in lora.partners] == [("MMLU", 2)]
    assert [(p.paper_id, p.last_seen) for p in lora.papers.rows] == [("p4", R), ("p3", before(1))]
    bert = queries.entity(con, "BERT", "MODEL", page=2, size=2)
    assert ([p.paper_id for p in bert.papers.rows], bert.papers.total) == (["p0"], 3)
    assert queries.entity(con, "BERT", "DATASET") is None and queries.entity(con, "nothing") is None


def test_quarantine_partitions_and_their_records_paginated(con):
    partitions = queries.quarantined_partitions(con).rows
    assert [(p.source, p.date, p.quarantined) for p in partitions] == [("arxiv", R, 2), ("arxiv", before(3), 1)]
    page = queries.quarantined_records(con, "arxiv", R, page=2, size=1)
    assert (page.total, [(r.record_index, r.paper_id, r.reason_codes, r.reasons) for r in page.rows]) == (
        2, [(2, "q3", ["abstract_length", "not_english"], ["abstract_length!", "not_english!"])])


def allow_everyone():
    return "tester"


def refuse_everyone():
    from fastapi import HTTPException

    raise HTTPException(status_code=401, detail="Not authenticated")


def client(settings, require_user=allow_everyone):
    from fastapi.testclient import TestClient

    return TestClient(
        create_app(lambda: settings, require_user, lambda source, run_id: f"dags/ingest_{source}/runs/{run_id}")
    )


def test_views_render_the_marts_and_link_reports_and_runs(page_lake, settings):
    http = client(settings)
    health = http.get("/")
    assert health.status_code == 200
    assert '<td class="n clean">1</td>' in health.text and "no partition for this date" in health.text
    assert 'href="report/arxiv/2026-11-30"' in health.text
    assert f'href="../dags/ingest_arxiv/runs/{RUN_R}" target="_top"' in health.text
    trends = http.get("/trends", params={"label": "DATASET"})
    assert trends.status_code == 200 and 'data-entity="MMLU"' in trends.text and 'data-entity="LoRA"' not in trends.text
    assert "<svg" in trends.text and "http" not in trends.text.split("<body>")[0]  # nothing loaded from elsewhere
    assert http.get("/entity", params={"id": "LoRA"}).status_code == 200
    assert http.get("/entity", params={"id": "nothing"}).status_code == 404
    records = http.get("/quarantine", params={"source": "arxiv", "date": R.isoformat()})
    assert "q3" in records.text and "abstract_length" in records.text
    report = http.get(f"/report/arxiv/{R}")
    assert (report.status_code, report.text) == (200, "<html></html>")
    assert (
        report.headers["content-security-policy"]
        == "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    assert http.get("/report/..%2Fclean/2026-11-30").status_code in (404, 422)


def test_without_marts_the_page_says_how_to_build_them(settings):
    page = client(settings).get("/trends")
    assert page.status_code == 200 and 'id="no-marts"' in page.text and "make run" in page.text


def test_every_route_depends_on_the_login_check(page_lake, settings):
    http = client(settings, refuse_everyone)
    for path in ("/", "/trends", "/entity?id=LoRA", "/quarantine", f"/report/arxiv/{R}"):
        assert http.get(path).status_code == 401, path
