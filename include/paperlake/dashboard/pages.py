"""The page's HTML: Jinja templates (autoescaped) beside this module, charts drawn inline as SVG."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from paperlake.dashboard.charts import series_svg
from paperlake.urls import web_url

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment():
    """The Jinja environment of the page's templates (autoescaping on)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    env.globals["chart"] = series_svg
    env.filters["query"] = query_string
    env.filters["web_url"] = web_url
    return env


def query_string(params: dict) -> str:
    """`params` as a URL query string, None values left out."""
    return urlencode({key: str(value) for key, value in params.items() if value is not None})


def render(template: str, **context) -> str:
    """The HTML of `template` with `context` (every template needs `title`, `section` and `latest`)."""
    return environment().get_template(template).render(**context)
