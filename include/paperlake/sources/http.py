"""Polite, retrying HTTP for the sources; every response is kept as a RawPage for the raw layer.

Politeness: at most one request per `min_interval` seconds from this fetcher (Airflow pools
serialise fetch tasks across processes). Transient failures (timeouts, connection errors, 429,
5xx) are retried by tenacity with exponential backoff and jitter, or exactly as long as the
server's Retry-After / RateLimit headers ask; other 4xx are permanent and fail at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from email.utils import parsedate_to_datetime

from paperlake.errors import PaperlakeError
from paperlake.lake import RawPage

log = logging.getLogger("paperlake")
MAX_SERVER_WAIT = 900.0  # never sleep longer than this on a server's say-so


class FetchError(PaperlakeError, RuntimeError):
    """A permanent fetch failure; the message names source, date, URL and what was wrong."""


class TransientHTTPError(PaperlakeError, RuntimeError):
    """A response worth retrying (429, 5xx); `retry_after` is the server's requested wait, if any."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Fetcher:
    """One source's HTTP session for one partition: rate limit, retries, and the pages it saw."""

    def __init__(
        self,
        source: str,
        day,
        *,
        min_interval: float,
        max_attempts: int,
        timeout: float,
        user_agent: str,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ):
        self.source, self.day = source, day
        self.min_interval, self.max_attempts = min_interval, max_attempts
        self.clock, self.sleep = clock, sleep
        self.pages: list[RawPage] = []
        self.last_request_at: datetime | None = None
        self._client_options = {"headers": {"User-Agent": user_agent}, "timeout": timeout, "follow_redirects": True}
        self._client = None  # opened by the first request: a source that only lands pages (snapshot) needs none

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def land(self, page: RawPage) -> None:
        """Keep a page for the raw layer (numbered in fetch order so names never collide)."""
        self.pages.append(replace(page, name=f"{len(self.pages) + 1:04d}-{page.name}"))

    def get(self, url: str, params: dict, name: str, role: str = "data"):
        """GET with politeness and retries; returns the successful httpx.Response."""
        import httpx
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_as_server_asks,
            retry=retry_if_exception_type((TransientHTTPError, httpx.TransportError)),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._get_once, url, params, name, role)
        except (TransientHTTPError, httpx.TransportError) as err:
            raise TransientHTTPError(
                f"{self.source} {self.day}: {url} still failing after {self.max_attempts} attempts: {err}"
            ) from err

    def _log_retry(self, retry_state) -> None:
        error = retry_state.outcome.exception()
        log.warning(
            "%s %s: %s; attempt %d of %d failed, retrying in %.1f s",
            self.source,
            self.day,
            f"{type(error).__name__}: {error}",
            retry_state.attempt_number,
            self.max_attempts,
            retry_state.next_action.sleep,
        )

    def _get_once(self, url: str, params: dict, name: str, role: str):
        import httpx

        if self._client is None:
            self._client = httpx.Client(**self._client_options)
        self._wait_turn()
        response = self._client.get(url, params=params)
        log.info(
            "%s %s: HTTP %d from %s (%d bytes)",
            self.source,
            self.day,
            response.status_code,
            response.request.url,
            len(response.content),
        )
        self.land(
            RawPage(
                name=name, body=response.content, url=str(response.request.url), status=response.status_code,
                headers=dict(response.headers), fetched_at=self.clock().isoformat(),
                role=role if response.status_code == 200 else "error",
            )
        )
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientHTTPError(
                f"HTTP {status} from {response.request.url}", server_wait(response.headers, self.clock())
            )
        if status >= 400:
            raise FetchError(
                f"{self.source} {self.day}: HTTP {status} from {response.request.url}: "
                f"{response.text[:300]!r}. The response is kept in raw_errors/ for inspection."
            )
        return response

    def _wait_turn(self) -> None:
        now = self.clock()
        if self.last_request_at is not None:
            gap = (now - self.last_request_at).total_seconds()
            if gap < self.min_interval:
                self.sleep(self.min_interval - gap)
        self.last_request_at = self.clock()


def server_wait(headers, now: datetime) -> float | None:
    """Seconds the server asks us to wait: Retry-After (seconds or HTTP date) or RateLimit's `t=`."""
    retry_after = headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        try:
            return max(0.0, (parsedate_to_datetime(retry_after) - now).total_seconds())
        except (TypeError, ValueError):
            pass
    rate_limit = headers.get("ratelimit")
    if rate_limit:
        match = re.search(r"(?:^|[;,\s])t=(\d+)", rate_limit)
        if match:
            return float(match.group(1))
    return None


def wait_as_server_asks(retry_state) -> float:
    """Tenacity wait: the server's requested delay when it gave one, else exponential backoff with jitter."""
    from tenacity import wait_exponential_jitter

    error = retry_state.outcome.exception()
    if isinstance(error, TransientHTTPError) and error.retry_after is not None:
        return min(error.retry_after, MAX_SERVER_WAIT)
    return wait_exponential_jitter(multiplier=2, max=120, jitter=2)(retry_state)
