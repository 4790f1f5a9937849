"""The sources' shared HTTP client (`sources/http.py`): waits, retries and failures, through the arXiv source."""

from __future__ import annotations

import pytest

from paperlake.sources import load_source
from paperlake.sources.http import FetchError, TransientHTTPError
from tests.support.http_sources import DAY, run_fetch
from tests.support.recorded_http import arxiv_answer, serve


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

def test_a_permanent_4xx_fails_at_once(env, httpserver):
    script = serve(httpserver, "/api/query", lambda request, n: (400, b"bad query", {}))
    with pytest.raises(FetchError, match=r"HTTP 400 from http://.*bad query"):
        run_fetch(env, "arxiv")
    assert len(script.requests) == 1

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
