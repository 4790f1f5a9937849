"""Hugging Face papers search (`/api/papers/search?q=...`) for configured queries: the live form of the sample page.

Search results carry no listing date: the partition date is the run's logical date.
"""

from __future__ import annotations

import re

from paperlake.sources import FetchRequest
from paperlake.sources.http import Fetcher
from paperlake.sources.huggingface import fetch_item_list, parse_item_pages

parse = parse_item_pages


def min_interval(http) -> float:
    return http.hf_min_interval


def fetch(request: FetchRequest, fetcher: Fetcher) -> None:
    http = request.settings.http
    for query in http.hf_queries:
        slug = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-") or "query"
        fetch_item_list(fetcher, f"{http.hf_api_url}/api/papers/search", {"q": query}, f"search-{slug}.json")
