"""The paperlake page in a real Airflow API server (the plugin as Airflow loads it): login required, the marts'
numbers served, and a headless Chromium that logs in through the UI's form and reads the page in the UI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest

from deploy.airflow_api import AirflowApi, wait_until
from deploy.processes import ProcessRef, free_ports, spawn, stop
from deploy.stack.config import PASSWORD_FILE
from tests.conftest import REPO, VENV_BIN
from tests.support.chromium import Chromium, chromium_binary
from tests.support.page_lake import RUN_R, R, build_page_lake

pytestmark = pytest.mark.e2e
# Where the browser test leaves its screenshot (CI can keep it as an artifact).
ARTIFACTS = Path(os.environ.get("PAPERLAKE_TEST_ARTIFACTS", REPO / "test-artifacts"))
USERS = "admin:admin,viewer:viewer"


@pytest.fixture(scope="module")
def api_server(tmp_path_factory, airflow_home):
    """`airflow api-server` on a free port with this checkout's plugins, over a lake whose marts are built."""
    from paperlake.config import Settings
    from paperlake.lake import Lake

    folder = tmp_path_factory.mktemp("ui-page")
    settings = Settings.from_env({"PAPERLAKE_HOME": str(folder / "home")})
    build_page_lake(Lake.from_settings(settings), settings)
    (port,) = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERLAKE_", "AWS_"))}
    env |= {
        "PAPERLAKE_HOME": str(settings.home),
        "AIRFLOW__API__PORT": str(port),
        "PYTHONPATH": f"{REPO / 'include'}:{REPO}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
    }
    server = spawn(
        [str(VENV_BIN / "airflow"), "api-server", "--host", "127.0.0.1"], env, folder / "api-server.log", cwd=REPO
    )
    api = AirflowApi(f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: server.poll() is None and api.health(), 180, "the API server")
        passwords = json.loads((airflow_home / PASSWORD_FILE).read_text())
        yield api.base_url, passwords
    finally:
        stop([ProcessRef.of(server.pid)], timeout=30)
        server.wait()


def viewer(base_url: str, passwords: dict) -> AirflowApi:
    api = AirflowApi(base_url, "viewer", passwords["viewer"])
    api.login()
    return api


def test_the_page_refuses_requests_without_an_airflow_login(api_server):
    base_url, _ = api_server
    for path in (
        "/paperlake/",
        "/paperlake/trends",
        f"/paperlake/report/arxiv/{R}",
        "/paperlake/quarantine?source=arxiv&date=2026-11-30",
        "/paperlake/search?q=title",
    ):
        assert httpx.get(base_url + path).status_code == 401, path
        assert httpx.get(base_url + path, headers={"Authorization": "Bearer not-a-token"}).status_code == 403, path
        assert httpx.get(base_url + path, cookies={"_token": "not-a-token"}).status_code == 403, path


def test_a_viewer_gets_the_marts_numbers_and_the_navigation_entry(api_server):
    api = viewer(*api_server)
    health = api.http.get("/paperlake/")
    assert health.status_code == 200
    row = re.search(r'<tr data-source="arxiv" data-date="2026-11-30">(.*?)</tr>', health.text, re.S).group(1)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[:8] == ["2026-11-30", "arxiv", "0", "3", "1", "2 not_english 2 abstract_length 1", "1", "2"]
    assert 'href="report/arxiv/2026-11-30">failed</a>' in row
    assert f'href="../dags/paperlake_ingest_arxiv/runs/{RUN_R.replace(":", "%3A").replace("+", "%2B")}"' in row
    trends = api.http.get("/paperlake/trends")
    assert re.findall(r'data-entity="(\w+)"', trends.text) == ["MMLU", "LoRA", "BERT"]
    assert re.findall(r'<td class="n lift">([\d.]+)</td>', trends.text) == ["12.00", "8.00", "4.00"]
    plugin = next(p for p in api.request("GET", "/plugins")["plugins"] if p["name"] == "paperlake")
    assert [(v["name"], v["href"], v["destination"]) for v in plugin["external_views"]] == [
        ("paperlake", "paperlake/", "nav")
    ]


FRAME = "document.querySelector('iframe[title=paperlake]').contentDocument"
NEEDS_CHROMIUM = pytest.mark.skipif(
    chromium_binary() is None, reason="Debian's chromium is not installed (`make test` installs it)"
)


def log_in_to_the_page(browser: Chromium, base_url: str, passwords: dict) -> str:
    """Start the browser, log in as the viewer via the UI's form, land on the paperlake page; its frame document (JS).

    The login form can re-render while its app finishes loading (CI saw a first login that never left the form), so
    the fields are checked to hold what was typed before the click, and the login is tried again if the form stays."""
    browser.start()
    browser.open(f"{base_url}/plugin/paperlake")  # the UI sends an anonymous visitor to its login form first
    fields = {"input[name=username]": "viewer", "input[name=password]": passwords["viewer"]}
    for attempt in range(3):
        browser.wait_for("document.querySelector('input[name=password]') !== null", what="the login form")
        for selector, text in fields.items():
            browser.type_into(selector, text)
        held = " && ".join(
            f"document.querySelector({json.dumps(s)})?.value === {json.dumps(t)}" for s, t in fields.items()
        )
        try:
            browser.wait_for(
                f"{held} && !document.querySelector('button[type=submit]').disabled",
                10,
                "the login form holding what was typed",
            )
            browser.evaluate("document.querySelector('button[type=submit]').click()")
            browser.wait_for("location.pathname === '/plugin/paperlake'", 30, "back on the paperlake page, logged in")
            return FRAME
        except TimeoutError:
            browser.screenshot(ARTIFACTS / f"paperlake-login-attempt-{attempt + 1}.png")
            seen = browser.evaluate("location.href + ' | ' + document.body.innerText.slice(0, 300)")
            if attempt == 2:
                raise TimeoutError(f"not on the paperlake page after 3 logins; the browser shows: {seen}") from None


@pytest.fixture
def logged_in(api_server, tmp_path):
    """(browser, the page's frame document as JS) once logged in as the viewer; the browser stops after the test."""
    browser = Chromium(tmp_path)
    try:
        yield browser, log_in_to_the_page(browser, *api_server)
    finally:
        browser.stop()


@NEEDS_CHROMIUM
def test_chromium_logs_in_and_reads_the_page_inside_the_airflow_ui(logged_in):
    browser, frame = logged_in
    browser.wait_for(f"{frame}?.querySelector('#health-table') != null", what="the page's health table in the UI")
    # the nav entry
    assert (
        browser.evaluate("document.querySelector('a[aria-label=paperlake]').getAttribute('href')")
        == "/plugin/paperlake"
    )
    rows = browser.evaluate(
        f"[...{frame}.querySelectorAll('#health-table tr[data-source]')].map(r => r.className + ' ' + "
        "r.innerText.split('\\t').slice(0, 5).join(' '))"
    )
    assert rows[:4] == [
        " 2026-11-30 arxiv 0 3 1",
        " 2026-11-30 hf_daily 0 1 1",
        " 2026-11-29 arxiv 0 1 1",
        "gap 2026-11-28 arxiv no partition for this date",
    ]
    browser.evaluate(f"{frame}.querySelector('nav a[href=trends]').click()")
    browser.wait_for(f"{frame}?.querySelector('#trending-entities') != null", what="the Trends view")
    assert browser.evaluate(
        f"[...{frame}.querySelectorAll('#trending-entities tr[data-entity]')].map(r => r.dataset.entity)"
    ) == ["MMLU", "LoRA", "BERT"]
    # a bar per day with papers
    assert browser.evaluate(f"{frame}.querySelectorAll('#trending-entities svg.series rect').length") == 3 + 2 + 2
    browser.screenshot(ARTIFACTS / "paperlake-page.png")


@NEEDS_CHROMIUM
def test_chromium_finds_papers_with_the_search_box_inside_the_airflow_ui(logged_in):
    browser, frame = logged_in
    browser.wait_for(
        f"{frame}?.querySelector('#search-box input[name=q]') != null", what="the search box in the page's header"
    )
    browser.evaluate(f"{frame}.querySelector('#search-box input[name=q]').focus()")
    browser.call("Input.insertText", text="title p4")
    browser.evaluate(f"{frame}.querySelector('#search-box').requestSubmit()")
    browser.wait_for(f"{frame}?.querySelector('#search-results') != null", what="the search results")
    rows = browser.evaluate(
        f"[...{frame}.querySelectorAll('#search-results tr[data-paper]')].map(r => r.dataset.paper)"
    )
    marked = browser.evaluate(f"[...{frame}.querySelectorAll('#search-results mark')].map(m => m.innerText)")
    assert rows == ["p4"] and marked == ["Title", "p4"]
    assert browser.evaluate(f"{frame}.querySelector('#search-form input[name=q]').value") == "title p4"
    browser.screenshot(ARTIFACTS / "paperlake-search.png")
    # the paper's entity, then back to a search
    browser.evaluate(f"{frame}.querySelector('#search-results a[href^=entity]').click()")
    browser.wait_for(f"{frame}?.querySelector('#search-entity') != null", what="the entity page's search link")
    browser.evaluate(f"{frame}.querySelector('#search-entity').click()")
    browser.wait_for(f"{frame}?.querySelector('#search-results') != null", what="the entity's search")
    assert browser.evaluate(f"{frame}.querySelector('#search-form input[name=q]').value") == "MMLU"
