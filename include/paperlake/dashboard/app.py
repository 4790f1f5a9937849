"""The page as a FastAPI app: Health, Trends, Entity, Quarantine and Search views over the published marts, read-only.

The Airflow plugin (`plugins/paperlake_ui.py`) mounts it and supplies the two Airflow-specific edges:
the access check every route depends on (the user may read DAGs and assets), and the UI path of an ingest run.
Every link is relative, so the page works under any mount point or proxy prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from paperlake.commit import committed_key
from paperlake.config import Settings
from paperlake.dashboard import queries
from paperlake.dashboard.pages import render
from paperlake.lake import VALIDATION_REPORT, Lake
from paperlake.marts.published import MARTS_KEY
from paperlake.readonly import QueryError, open_marts_readonly
from paperlake.search import SearchError, SearchFilters, open_search
from paperlake.search import search as find

# Source names as the lake spells them: nothing else reaches a storage key.
SOURCE_PATTERN = r"^[a-z0-9_]+$"
# The validation report is our own escaped HTML with inline CSS; it may run nothing and load nothing.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
# Every response: the views are inline CSS and SVG too (no script, nothing loaded, no form), framed only by the
# Airflow UI of the same origin (its `paperlake` nav entry), and never sniffed into another content type.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# The highest page number a view accepts (past it: 422; a deeper OFFSET only costs the server, and one past
# 2^63 would overflow DuckDB's).
MAX_PAGE = 10_000


def form_date(text: str | None, name: str) -> date | None:
    """A date field of the search form (empty: no filter); SearchError names the field when it is not a date."""
    try:
        return None if text is None else date.fromisoformat(text)
    except ValueError:
        raise SearchError(f"{name} must be a date like 2026-11-26, not {text[:40]!r}") from None


class BuiltOnFirstRequest:
    """An ASGI app that builds the real one on its first request: Airflow loads plugins in every task process,
    which never serves the page, so the plugin file must not import FastAPI or Airflow's API server."""

    def __init__(self, build: Callable):
        self.build = build
        self.app = None

    async def __call__(self, scope, receive, send):
        if self.app is None:
            self.app = self.build()  # no await before this assignment: concurrent first requests build it once
        await self.app(scope, receive, send)


def create_app(settings: Callable[[], Settings], require_user: Callable, run_path: Callable[[str, str], str]):
    """A FastAPI app whose every route depends on `require_user`; `run_path(source, airflow_run_id)` is the
    Airflow run's path below the Airflow UI's root (e.g. `dags/<dag_id>/runs/<airflow_run_id>`)."""
    from fastapi import Depends, FastAPI, Path, Query
    from fastapi.responses import HTMLResponse

    app = FastAPI(
        title="paperlake", dependencies=[Depends(require_user)], docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def page_html(template: str, section: str, title: str, fetch: Callable) -> HTMLResponse:
        """`template` filled by `fetch(con)` on the marts, or the page saying how to build them when there are none."""
        current = settings()
        try:
            con = open_marts_readonly(current)
        except FileNotFoundError:
            uri = Lake.from_settings(current).uri(MARTS_KEY)
            return HTMLResponse(
                render("no_marts.html", title="no marts yet", section=section, latest=None, marts_uri=uri)
            )
        except QueryError as err:  # a damaged marts file: what to do, not a 500
            return message(section, "Marts unreadable", str(err), status=503)
        try:
            context = fetch(con)
            latest = queries.latest_date(con)
        finally:
            con.close()
        if context is None:
            return message(section, "Not in the marts", f"The marts hold no such {section.lower()}.", latest, 404)
        return HTMLResponse(render(template, title=title, section=section, latest=latest, **context))

    def message(section: str, title: str, text: str, latest=None, status: int = 404) -> HTMLResponse:
        return HTMLResponse(
            render("message.html", title=title, section=section, latest=latest, message=text), status_code=status
        )

    def run_url(source: str, airflow_run_id: str) -> str:
        return "../" + run_path(source, airflow_run_id)  # every view is one level below the mount point

    @app.get("/", response_class=HTMLResponse)
    def health(page: int = Query(1, ge=1, le=MAX_PAGE)):
        return page_html(
            "health.html", "Health", "lake health", lambda con: {"page": queries.health(con, page), "run_url": run_url}
        )

    @app.get("/trends", response_class=HTMLResponse)
    def trends(
        label: str | None = None,
        page: int = Query(1, ge=1, le=MAX_PAGE),
        papers_page: int = Query(1, ge=1, le=MAX_PAGE),
    ):
        return page_html(
            "trends.html",
            "Trends",
            "trends",
            lambda con: {
                "label": label,
                "labels": queries.trending_labels(con),
                "entities": queries.trending_entities(con, label, page),
                "papers": queries.trending_papers(con, papers_page),
            },
        )

    @app.get("/entity", response_class=HTMLResponse)
    def entity(entity_id: str = Query(alias="id"), label: str | None = None, page: int = Query(1, ge=1, le=MAX_PAGE)):
        def fetch(con):
            found = queries.entity(con, entity_id, label, page)
            return None if found is None else {"e": found}

        return page_html("entity.html", "Entity", f"entity {entity_id}", fetch)

    @app.get("/quarantine", response_class=HTMLResponse)
    def quarantine(
        source: str | None = Query(None, pattern=SOURCE_PATTERN),
        day: date | None = Query(None, alias="date"),
        page: int = Query(1, ge=1, le=MAX_PAGE),
    ):
        def fetch(con):
            if source and day:
                return {
                    "records": queries.quarantined_records(con, source, day, page),
                    "source": source,
                    "day": day,
                    "partitions": None,
                }
            return {"records": None, "partitions": queries.quarantined_partitions(con, page)}

        return page_html("quarantine.html", "Quarantine", "quarantine", fetch)

    @app.get("/search", response_class=HTMLResponse)
    def search(q: str | None = None, entity: str | None = None, label: str | None = None, since: str | None = None,
               until: str | None = None, source: str | None = None, page: int = Query(1, ge=1, le=MAX_PAGE)):
        """Papers matching `q`, best first; the form alone without a query. Empty form fields mean no filter."""
        form = {
            "q": q or None,
            "entity": entity or None,
            "label": label or None,
            "since": since or None,
            "until": until or None,
            "source": source or None,
        }
        try:
            filters = SearchFilters(
                form["entity"], form["label"], *(form_date(form[k], k) for k in ("since", "until")), form["source"]
            )
        except SearchError as err:
            return message("Search", "Not a search", str(err), status=400)
        try:
            con = open_search(settings())
        except FileNotFoundError as err:
            return message("Search", "No search index yet", f"{err}.", status=404)
        except QueryError as err:
            return message("Search", "Marts unreadable", str(err), status=503)
        try:
            latest = queries.latest_date(con)
            labels = [
                label for (label,) in con.execute("SELECT DISTINCT label FROM entity_counts ORDER BY label").fetchall()
            ]
            results, error = None, None
            if form["q"]:
                try:
                    results = find(con, form["q"], filters, page, queries.PAGE_SIZE)
                except SearchError as err:
                    error = str(err)
        finally:
            con.close()
        html = render(
            "search.html",
            title=f"search {form['q'] or ''}".strip(),
            section="Search",
            latest=latest,
            form=form,
            labels=labels,
            results=results,
            error=error,
        )
        return HTMLResponse(html, status_code=400 if error else 200)

    @app.get("/report/{source}/{day}", response_class=HTMLResponse)
    def report(source: str = Path(pattern=SOURCE_PATTERN), day: date = Path()):
        """The validation report of the partition's committed run, as the run wrote it."""
        lake = Lake.from_settings(settings())
        try:
            body = lake.store.get(committed_key(lake, "validation", source, day, VALIDATION_REPORT))
        except FileNotFoundError:
            return message(
                "Health",
                "No validation report",
                f"No committed run of source={source} date={day} has a validation report.",
            )
        return HTMLResponse(body, headers={"Content-Security-Policy": REPORT_POLICY})

    return app
