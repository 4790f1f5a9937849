"""Links to the outside world as the page and the digest render them: web addresses only."""

from __future__ import annotations

import re

# http(s) and nothing a browser would strip or read past: no whitespace or control character anywhere, so
# "java\tscript:", " javascript:" and "javascript:" (or data:, vbscript:, file:) are never a link.
WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


def web_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address a link may point to; None otherwise (the caller shows no link)."""
    return url if url and WEB_URL.fullmatch(url) else None
