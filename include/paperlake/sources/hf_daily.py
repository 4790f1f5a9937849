"""Hugging Face daily papers (`/api/daily_papers?date=D&limit=N&p=K`), paged until a short page.

Items whose `submittedOnDailyAt` is outside the run's interval are kept and quarantined by
validation (reason `outside_interval`), so nothing fetched disappears silently.
"""

from __future__ import annotations

from paperlake.sources import FetchRequest
from paperlake.sources.http import Fetcher
from paperlake.sources.huggingface import fetch_item_list, parse_item_pages

parse = parse_item_pages


def min_interval(http) -> float:
    return http.hf_min_interval


def fetch(request: FetchRequest, fetcher: Fetcher) -> None:
    http = request.settings.http
    for day in request.days():
        page = 0
        while True:
            params = {"date": day.isoformat(), "limit": http.hf_page_size, "p": page}
            items = fetch_item_list(fetcher, f"{http.hf_api_url}/api/daily_papers", params, f"{day}-p{page:03d}.json")
            if len(items) < http.hf_page_size:
                break
            page += 1
