"""Shared by the HTTP source tests: the day they fetch, one fetch against the local server, Hugging Face items."""

from __future__ import annotations

import json
from datetime import date

from paperlake.config import Settings
from paperlake.lake import Lake, RawPage
from paperlake.sources import FetchRequest, fetch_partition
from tests.support.clock import FakeClock

DAY = date(2026, 11, 26)


def run_fetch(env: dict, source: str, clock: FakeClock | None = None):
    """Fetch DAY of `source` with the settings `env` gives, on a fake clock: (settings, lake, summary, clock)."""
    settings = Settings.from_env(env)
    clock = clock or FakeClock()
    lake = Lake.from_settings(settings)
    summary = fetch_partition(lake, source, FetchRequest.for_day(settings, DAY, clock=clock, sleep=clock.sleep))
    return settings, lake, summary, clock


# a 200 answer that is an HTML error page, not the feed asked for
NOT_ATOM = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>Rate exceeded.</body></html>'

HF_URL = "https://hf.example/api/daily_papers?date=2026-11-26&limit=2&p=0"


def hf_page(items: list) -> RawPage:
    return RawPage(name="0001-2026-11-26-p000.json", body=json.dumps(items).encode(), url=HF_URL)


def hf_item(paper_id: str, **paper) -> dict:
    return {"paper": {"id": paper_id, "title": f"Paper {paper_id}", "summary": "An abstract.", "upvotes": 3, **paper}}

