"""The daily "trending papers" digest: composed from the marts as HTML + plain text, with trend sparklines."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from html import escape

from paperlake.sparkline import sparkline_png
from paperlake.urls import web_url

TREND_DAYS = 14


@dataclass(frozen=True)
class TrendingEntity:
    entity_id: str
    label: str
    lift: float
    recent_papers: int
    daily: list[int]

    @property
    def chart_cid(self) -> str:
        digest = hashlib.sha1(f"{self.label}:{self.entity_id}".encode()).hexdigest()[:16]
        return f"trend-{digest}@paperlake"


@dataclass(frozen=True)
class Digest:
    day: date
    papers: list[dict]
    entities: list[TrendingEntity]
    charts: dict[str, bytes] = field(repr=False)

    @property
    def subject(self) -> str:
        return f"paperlake: trending papers for {self.day.isoformat()}"


@dataclass(frozen=True)
class SmtpSettings:
    """Where to send mail; filled from Airflow's SMTP connection by the DAG."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0


def compose_digest(con, n_papers: int = 10, n_entities: int = 10) -> Digest:
    """Read the top trending papers and entities (and each entity's daily series) from the marts."""
    day = con.execute("SELECT max(reference_date) FROM trending_entities").fetchone()[0] or con.execute(
        "SELECT max(reference_date) FROM trending_papers"
    ).fetchone()[0]
    cursor = con.execute(
        "SELECT paper_id, title, first_sentence, abs_url, pdf_url, upvotes, trending_entities FROM trending_papers "
        "ORDER BY rank LIMIT ?",
        [n_papers],
    )
    columns = [d[0] for d in cursor.description]
    papers = [dict(zip(columns, row)) for row in cursor.fetchall()]
    entities = []
    for entity_id, label, lift, recent in con.execute(
        "SELECT entity_id, label, lift, recent_papers FROM trending_entities ORDER BY rank LIMIT ?", [n_entities]
    ).fetchall():
        counts = dict(
            con.execute(
                "SELECT date, n_papers FROM entity_daily WHERE entity_id = ? AND label = ? AND date > ?::DATE - ? AND "
                "date <= ?",
                [entity_id, label, day, TREND_DAYS, day],
            ).fetchall()
        )
        daily = [counts.get(day - timedelta(days=TREND_DAYS - 1 - i), 0) for i in range(TREND_DAYS)]
        entities.append(TrendingEntity(entity_id, label, lift, recent, daily))
    charts = {e.chart_cid: sparkline_png(e.daily) for e in entities}
    return Digest(day=day, papers=papers, entities=entities, charts=charts)


def render_html(digest: Digest, inline_cid: bool) -> str:
    """The digest page; charts by Content-ID (email) or as data URIs (a file that renders offline)."""

    def chart_src(entity: TrendingEntity) -> str:
        if inline_cid:
            return f"cid:{entity.chart_cid}"
        return "data:image/png;base64," + base64.b64encode(digest.charts[entity.chart_cid]).decode()

    papers = "".join(_paper_item(p) for p in digest.papers)
    entities = "".join(
        f"<tr><td>{escape(e.entity_id)}</td><td>{escape(e.label)}</td><td>{e.lift:.1f}×</td><td>{e.recent_papers}</td>"
        f"<td><img src=\"{chart_src(e)}\" alt=\"papers per day, last {TREND_DAYS} days\"></td></tr>"
        for e in digest.entities
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(digest.subject)}</title></head>
<body style="font:14px/1.45 system-ui,sans-serif;max-width:46em;margin:auto">
<h1>Trending papers · {digest.day.isoformat()}</h1>
<ol>{papers or "<li>No papers in the last 7 days.</li>"}</ol>
<h2>Trending entities</h2>
<table cellpadding="4"><tr><th align="left">entity</th><th align="left">label</th><th align="left">lift</th>\
<th align="left">papers (7 d)</th><th align="left">last {TREND_DAYS} days</th></tr>
{entities or '<tr><td colspan="5">No entity passed the minimum support.</td></tr>'}</table>
</body></html>
"""


def paper_link(paper: dict) -> str | None:
    """The paper's abstract page, else its PDF: an http(s) address, never a `javascript:` one from a feed."""
    return web_url(paper["abs_url"]) or web_url(paper["pdf_url"])


def _paper_item(paper: dict) -> str:
    link = paper_link(paper)
    title = f"<b>{escape(paper['title'])}</b>"
    upvotes = f" · {paper['upvotes']} upvotes" if paper["upvotes"] else ""
    entities = (
        f"<br><small>{escape(', '.join(paper['trending_entities']))}</small>" if paper["trending_entities"] else ""
    )
    heading = f"<a href=\"{escape(link)}\">{title}</a>" if link else title
    return f"<li>{heading}{upvotes}<br>{escape(paper['first_sentence'] or '')}{entities}</li>"


def render_text(digest: Digest) -> str:
    lines = [f"Trending papers · {digest.day.isoformat()}", ""]
    for n, p in enumerate(digest.papers, 1):
        lines += [f"{n}. {p['title']}", f"   {p['first_sentence'] or ''}", f"   {paper_link(p) or ''}".rstrip(), ""]
    lines += ["Trending entities (lift of the last 7 days over the 28 before):", ""]
    lines += [f"- {e.entity_id} ({e.label}): {e.lift:.1f}x, {e.recent_papers} papers" for e in digest.entities]
    return "\n".join(lines) + "\n"


def digest_message(digest: Digest, sender: str, recipients: list[str]) -> EmailMessage:
    """multipart/alternative: plain text, and HTML with the sparklines inline (multipart/related)."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(render_text(digest))
    message.add_alternative(render_html(digest, inline_cid=True), subtype="html")
    html_part = message.get_payload()[1]
    for cid, png in digest.charts.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    return message


def send_message(message: EmailMessage, smtp: SmtpSettings) -> None:
    """Deliver through an SMTP server (SSL, STARTTLS or plain, with login when a user is set)."""
    import smtplib  # here: every DAG file parse loads this module, only the sending task needs an SMTP client

    client_class = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    with client_class(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls and not smtp.ssl:
            client.starttls()
        if smtp.user and smtp.password:
            client.login(smtp.user, smtp.password)
        client.send_message(message)


def publish_digest(lake, digest: Digest) -> str:
    """Write the digest page (charts embedded, renders offline) to `digests/date=D/digest.html`."""
    key = f"digests/date={digest.day.isoformat()}/digest.html"
    lake.store.put(key, render_html(digest, inline_cid=False).encode())
    return lake.uri(key)
