"""Attacks on the paperlake page (the FastAPI app the plugin mounts): hostile data from a feed or a saved page
is text, never markup or a `javascript:` link; every parameter is bounded; every response carries the
security headers. (Login and tokens against a real API server: tests/e2e/test_ui_page.py.)"""

from datetime import date, timedelta
from pathlib import Path

import pytest

from paperlake.dashboard.app import PAGE_HEADERS
from paperlake.digest import compose_digest, render_html, render_text
from paperlake.schemas import CLEAN, ENTITIES, QUARANTINE
from paperlake.urls import web_url
from tests.support.lake_runs import commit_tables, paper, spans, table
from tests.unit.dashboard.test_app import client

DAY = date(2026, 11, 30)
SCRIPT = "<script>alert(document.cookie)</script>"
HOSTILE_URLS = [
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "\x01javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd",
    "//evil.example/x", "https://ok.example/\njavascript:alert(1)",
]
ROUTES = [
    "/",
    "/trends",
    "/entity?id=LoRA",
    "/quarantine",
    "/quarantine?source=arxiv&date=2026-11-30",
    "/report/arxiv/2026-11-30",
    "/report/nothing/2026-11-30",
    "/entity?id=nothing",
    "/?page=0",
    "/no-such-route",
    "/search?q=title",
    "/search",
]


def hostile_row(pid: str, url: str) -> dict:
    return {**paper(pid, 1, f"{SCRIPT} title {pid}", f"h{pid}", 1), "abs_url": url, "pdf_url": url}


@pytest.fixture
def hostile_lake(lake, settings):
    """Marts over papers whose titles are markup and whose URLs are `javascript:` and friends, on the latest date."""
    from paperlake.marts.builder import build_marts
    from paperlake.search import build_search_index

    papers = [hostile_row(f"p{i}", url) for i, url in enumerate(HOSTILE_URLS)] + [hostile_row("good", "https://arxiv.org/abs/1")]
    found = [s for row in papers for s in spans(row["paper_id"], row["content_hash"], (SCRIPT, "METHOD", 0))]
    quarantine = [{**hostile_row("q1", HOSTILE_URLS[0]), "record_index": 1, "reason_codes": ["x"], "reasons": [SCRIPT]}]
    for back in (0, 1, 2):
        commit_tables(
            lake,
            "arxiv",
            DAY - timedelta(days=back),
            clean=table(papers, CLEAN),
            entities=table(found, ENTITIES),
            quarantine=table(quarantine if back == 0 else [], QUARANTINE),
        )
    build_marts(lake, settings)
    build_search_index(lake, settings)
    return lake


def test_only_web_addresses_are_links():
    assert [web_url(url) for url in HOSTILE_URLS] == [None] * len(HOSTILE_URLS)
    assert web_url("https://arxiv.org/abs/2401.12345") == "https://arxiv.org/abs/2401.12345"
    assert web_url("HTTP://example.com/a?b=c&d") == "HTTP://example.com/a?b=c&d"


def test_hostile_titles_and_urls_from_a_feed_render_as_text_on_every_view(hostile_lake, settings):
    http = client(settings)
    pages = {
        path: http.get(path)
        for path in (
            "/trends",
            f"/entity?id={SCRIPT}",
            "/quarantine",
            f"/quarantine?source=arxiv&date={DAY}",
            "/",
            "/search?q=title",
        )
    }
    for path, response in pages.items():
        assert response.status_code == 200, path
        assert "<script>" not in response.text and "javascript:" not in response.text.lower(), path
        assert 'href="data:' not in response.text and 'href="file:' not in response.text, path
    assert "&lt;script&gt;" in pages["/trends"].text and 'href="https://arxiv.org/abs/1"' in pages["/trends"].text
    assert 'href="https://arxiv.org/abs/1"' in pages[f"/entity?id={SCRIPT}"].text
    assert (
        "&lt;script&gt;" in pages["/search?q=title"].text
        and 'href="https://arxiv.org/abs/1"' in pages["/search?q=title"].text
    )


@pytest.mark.parametrize("damaged", ["paperlake.duckdb", "search"])
def test_a_damaged_marts_or_search_file_is_a_page_saying_how_to_rebuild_not_a_500(hostile_lake, settings, damaged):
    from paperlake.search import Manifest

    key = Manifest.read(hostile_lake.store).segments[0] if damaged == "search" else f"marts/{damaged}"
    Path(hostile_lake.uri(key)).write_text("overwritten\n")
    http = client(settings)
    routes = (
        ["/search?q=title"]
        if damaged == "search"
        else ["/", "/trends", f"/entity?id={SCRIPT}", "/quarantine", "/search?q=title"]
    )
    for path in routes:
        response = http.get(path)
        assert response.status_code == 503 and "paperlake marts --full" in response.text, (path, response.status_code)
        assert "default-src 'none'" in response.headers["content-security-policy"], path


def test_the_digest_links_web_addresses_only(hostile_lake, settings):
    import duckdb

    from paperlake.marts.published import local_marts_path

    with duckdb.connect(str(local_marts_path(hostile_lake, settings)), read_only=True) as con:
        digest = compose_digest(con, n_papers=50)
    html, text = render_html(digest, inline_cid=False), render_text(digest)
    assert "javascript:" not in html.lower() and "<script>" not in html and 'href="data:' not in html
    assert 'href="https://arxiv.org/abs/1"' in html and "javascript:" not in text.lower()


def test_every_route_sends_the_security_headers(hostile_lake, settings):
    http = client(settings)
    for path in ROUTES:
        response = http.get(path)
        for name, value in PAGE_HEADERS.items():
            if name != "Content-Security-Policy":
                assert response.headers.get(name) == value, (path, name)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy and "script-src" not in policy, (
            path
        )
        if 'id="search-box"' in response.text:  # the header's search box submits to the page itself, nowhere else
            assert "form-action 'self'" in policy, path


@pytest.mark.parametrize("parameter", ["page", "papers_page"])
@pytest.mark.parametrize("value", [str(2**63), str(2**64 + 1), "9" * 40, "-1", "0", "1e3", "NaN"])
def test_page_numbers_out_of_range_are_refused_not_a_500(hostile_lake, settings, parameter, value):
    http = client(settings)
    for path in ("/", "/trends", f"/entity?id={SCRIPT}", "/quarantine", f"/quarantine?source=arxiv&date={DAY}"):
        response = http.get(path, params={parameter: value})
        assert response.status_code in (200, 422), (path, parameter, value, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/report/..%2F..%2Fetc/passwd",
        "/report/../clean/2026-11-30",
        "/report/arxiv/..%2F..%2Fetc%2Fpasswd",
        "/report/arxiv%2F..%2Fclean/2026-11-30",
        "/report/ARXIV/2026-11-30",
        "/report/arxiv/2026-02-30",
        "/report/arxiv/99999-01-01",
        "/quarantine?source=../clean&date=2026-11-30",
        "/quarantine?source=arxiv&date=0000-00-00",
        "/quarantine?source=arxiv%27%20OR%201=1--&date=2026-11-30",
        "/entity?id=%27%20OR%201=1--",
        "/entity?id=LoRA&label=%27%3B%20DROP%20TABLE%20papers%3B--",
        "/trends?label=%27%20OR%20%27%27=%27",
        "/entity?id=" + "%00" * 10,
        "/entity?id=" + "x" * 60_000,
        "/quarantine?source=arxiv&date=9999-12-31",
        "/quarantine?source=arxiv&date=0001-01-01",
    ],
)
def test_traversal_and_injection_through_every_parameter_gets_no_file_and_no_500(hostile_lake, settings, path):
    response = client(settings).get(path)
    assert response.status_code in (200, 404, 422), (path, response.status_code)
    assert "root:" not in response.text


def test_trends_and_entities_on_a_lake_whose_latest_date_is_the_first_representable_one(lake, settings):
    from paperlake.marts.builder import build_marts

    row = hostile_row("p1", "https://arxiv.org/abs/1")
    commit_tables(
        lake,
        "arxiv",
        date.min,
        clean=table([row], CLEAN),
        entities=table(spans("p1", "hp1", ("LoRA", "METHOD", 0)), ENTITIES),
    )
    build_marts(lake, settings)
    http = client(settings)
    for path in ("/", "/trends", "/entity?id=LoRA", "/quarantine"):
        assert http.get(path).status_code == 200, path


def test_a_hostile_saved_page_ingested_by_the_cli_renders_as_text(tmp_path, monkeypatch):
    """Stored XSS through the snapshot source: the clean stage strips tags but keeps what entities and quotes
    spell (`&lt;script&gt;` becomes `<script>`, `"'><` stays); the page shows all of it as text."""
    from paperlake.cli import main
    from paperlake.config import Settings
    from tests.unit.cli.conftest import use_home

    abstract = ("We present &lt;script&gt;alert(1)&lt;/script&gt; and LoRA, a method evaluated on MMLU with BERT; "
                "the results improve over strong baselines on every benchmark we tried, by a wide margin.")
    page = tmp_path / "hostile.txt"
    page.write_text(
        "Get trending papers in your email inbox once a day!\nGet trending papers in your email inbox!\n"
        + "".join(
            f"{SCRIPT}&lt;script&gt;alert(2)&lt;/script&gt; \"'><b onmouseover=alert(3)>Paper {i}\n{abstract} Variant "
            f"{i}.\n"
            for i in range(3)
        )
    )
    use_home(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PAPERLAKE_SNAPSHOT_PATH", str(page))
    assert main(["ingest", "--source", "snapshot", "--date", "2026-11-26"]) == 0
    assert main(["marts"]) == 0
    http = client(Settings.from_env())
    shown = ""
    for path in ("/", "/trends", "/entity?id=LoRA", "/quarantine"):
        response = http.get(path)
        assert response.status_code == 200, path
        for raw in ("<script>", "<b onmouseover", "\"'>"):
            assert raw not in response.text, (path, raw)
        shown += response.text
    assert "&#34;&#39;&gt;" in shown  # the hostile title is on the page, as text
