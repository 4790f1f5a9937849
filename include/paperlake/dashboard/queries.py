"""What the page shows, read from the published marts: one function per view, each a paginated query.

Every function takes a read-only DuckDB connection on the marts file and reads the marts only (never
the lake), so a page view costs a few indexed-size queries whatever the lake's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from paperlake.paging import Page, page_bounds, paged_rows

PAGE_SIZE = 25
HEALTH_DAYS_PER_PAGE = 14
# Days of daily counts drawn for an entity: the trend windows (28 baseline + 7 recent days).
TREND_DAYS = 35
# An entity page draws at most this many days (and at least TREND_DAYS), ending at the lake's latest date.
ENTITY_DAYS = 180


def days_before(day: date, days: int) -> date:
    """`days` days before `day`, or the first representable date (a lake whose dates start at 0001-01-01)."""
    return day - timedelta(days=min(days, (day - date.min).days))


@dataclass(frozen=True)
class HealthRow:
    """One (source, date): what its committed run fetched, kept, quarantined and tagged; `present` False marks a gap."""

    source: str
    date: date
    present: bool
    fetched_pages: int | None = None
    parsed: int | None = None
    clean: int | None = None
    quarantined: int | None = None
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    papers_with_entities: int | None = None
    entity_spans: int | None = None
    validation_success: bool | None = None
    airflow_run_id: str | None = None


# Every source's dates from its first partition to the lake's latest date: a date missing in
# pipeline_health is a gap.
HEALTH_GRID = """
WITH firsts AS (SELECT source, min(date) AS first FROM pipeline_health GROUP BY source),
latest AS (SELECT max(date) AS last FROM pipeline_health),
grid AS (SELECT f.source, unnest(generate_series(f.first, l.last, INTERVAL 1 DAY))::DATE AS date \
FROM firsts f, latest l)
"""


def health(con, page: int = 1, days: int = HEALTH_DAYS_PER_PAGE) -> Page:
    """Health rows of `days` dates per page, newest first, every source per date (gaps included)."""
    limit, offset = page_bounds(page, days)
    total = con.execute(HEALTH_GRID + "SELECT count(DISTINCT date) FROM grid").fetchone()[0]
    rows = con.execute(
        HEALTH_GRID
        + """, shown AS (SELECT DISTINCT date FROM grid ORDER BY date DESC LIMIT ? OFFSET ?)
        SELECT g.source, g.date, h.source IS NOT NULL, h.fetched_pages, h.parsed, h.clean, h.quarantined,
               h.quarantined_by_reason, h.papers_with_entities, h.entity_spans, h.validation_success, h.airflow_run_id
        FROM grid g SEMI JOIN shown USING (date) LEFT JOIN pipeline_health h USING (source, date)
        ORDER BY g.date DESC, g.source""",
        [limit, offset],
    ).fetchall()
    health_rows = [HealthRow(*row[:7], dict(row[7] or {}), *row[8:]) for row in rows]
    return Page(health_rows, max(page, 1), days, total)


def latest_date(con) -> date | None:
    """The newest partition date the marts hold (the trends' reference date)."""
    return con.execute("SELECT max(date) FROM pipeline_health").fetchone()[0]


@dataclass(frozen=True)
class TrendingEntity:
    rank: int
    entity_id: str
    label: str
    recent_papers: int
    baseline_papers: int
    lift: float
    series: list[tuple[date, int]]


def trending_labels(con) -> list[str]:
    """The labels of trending entities (the filter's choices)."""
    return [label for (label,) in con.execute("SELECT DISTINCT label FROM trending_entities ORDER BY label").fetchall()]


def trending_entities(con, label: str | None = None, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Trending entities by rank (optionally of one label), each with its daily papers over the trend windows."""
    where, params = ("WHERE label = ?", [label]) if label else ("", [])
    rows, total = paged_rows(
        con,
        "rank, entity_id, label, recent_papers, baseline_papers, lift, reference_date",
        f"trending_entities {where}",
        "rank",
        params,
        page,
        size,
    )
    if not rows:
        return Page([], max(page, 1), size, total)
    last = rows[0][6]
    series = daily_series(con, [(r[1], r[2]) for r in rows], days_before(last, TREND_DAYS - 1), last)
    entities = [TrendingEntity(*row[:6], series[(row[1], row[2])]) for row in rows]
    return Page(entities, max(page, 1), size, total)


def daily_series(
    con, entities: list[tuple[str, str]], first: date, last: date
) -> dict[tuple[str, str], list[tuple[date, int]]]:
    """(entity_id, label) -> papers per day from `first` to `last`, zero on days without any."""
    counts: dict[tuple[str, str], dict[date, int]] = {key: {} for key in entities}
    rows = con.execute(
        """SELECT entity_id, label, date, n_papers FROM entity_daily
        SEMI JOIN (SELECT unnest(?::VARCHAR[]) AS entity_id, unnest(?::VARCHAR[]) AS label) USING (entity_id, label)
        WHERE date BETWEEN ? AND ?""",
        [[e for e, _ in entities], [lab for _, lab in entities], first, last],
    ).fetchall()
    for entity_id, label, day, n in rows:
        counts[(entity_id, label)][day] = n
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return {key: [(day, by_day.get(day, 0)) for day in days] for key, by_day in counts.items()}


@dataclass(frozen=True)
class TrendingPaper:
    rank: int
    paper_id: str
    title: str
    first_sentence: str | None
    abs_url: str | None
    upvotes: int | None
    score: float
    trending_entities: list[str]


def trending_papers(con, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Trending papers by rank, with the trending entities they mention."""
    rows, total = paged_rows(
        con,
        "rank, paper_id, title, first_sentence, abs_url, upvotes, score, trending_entities",
        "trending_papers",
        "rank",
        [],
        page,
        size,
    )
    return Page([TrendingPaper(*row) for row in rows], max(page, 1), size, total)


@dataclass(frozen=True)
class Partner:
    entity_id: str
    label: str
    n_papers: int
    pmi: float


@dataclass(frozen=True)
class EntityPaper:
    paper_id: str
    title: str
    abs_url: str | None
    mentions: int
    last_seen: date


@dataclass(frozen=True)
class EntityDetail:
    """One entity: its spellings, daily papers, top co-occurring entities and a page of its papers."""

    entity_id: str
    label: str
    aliases: list[str]
    n_papers: int
    first_seen: date
    last_seen: date
    other_labels: list[str]
    series: list[tuple[date, int]]
    partners: list[Partner]
    papers: Page


def entity(con, entity_id: str, label: str | None = None, page: int = 1, size: int = PAGE_SIZE) -> EntityDetail | None:
    """The entity `entity_id` (of `label`; else its label with the most papers); None when the marts lack it."""
    found = con.execute(
        "SELECT label, aliases_seen, n_papers, first_seen, last_seen FROM entities WHERE entity_id = ? "
        "ORDER BY label = ? DESC, n_papers DESC, label",
        [entity_id, label],
    ).fetchall()
    if not found or (label and found[0][0] != label):
        return None
    chosen, aliases, n_papers, first_seen, last_seen = found[0]
    last = latest_date(con) or last_seen
    # At least the trend windows, at most ENTITY_DAYS, back from the lake's latest date.
    start = max(min(first_seen, days_before(last, TREND_DAYS - 1)), days_before(last, ENTITY_DAYS - 1))
    partners = con.execute(
        "SELECT other_entity_id, other_label, n_papers, pmi FROM entity_cooccurrence WHERE entity_id = ? AND label = ? "
        "ORDER BY rank",
        [entity_id, chosen],
    ).fetchall()
    papers, total = paged_rows(
        con, "p.paper_id, p.title, p.abs_url, e.mentions, p.last_seen",
        "paper_entities e JOIN papers p USING (paper_id) WHERE e.entity_id = ? AND e.label = ?",
        "p.last_seen DESC, e.mentions DESC, p.paper_id", [entity_id, chosen], page, size,
    )
    return EntityDetail(
        entity_id, chosen, list(aliases), n_papers, first_seen, last_seen, [row[0] for row in found[1:]],
        daily_series(con, [(entity_id, chosen)], start, last)[(entity_id, chosen)],
        [Partner(*row) for row in partners], Page([EntityPaper(*row) for row in papers], max(page, 1), size, total),
    )


@dataclass(frozen=True)
class QuarantinedPartition:
    source: str
    date: date
    quarantined: int
    quarantined_by_reason: dict[str, int]


def quarantined_partitions(con, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Partitions with quarantined records, newest first."""
    rows, total = paged_rows(
        con,
        "source, date, quarantined, quarantined_by_reason",
        "pipeline_health WHERE quarantined > 0",
        "date DESC, source",
        [],
        page,
        size,
    )
    return Page([QuarantinedPartition(*row[:3], dict(row[3] or {})) for row in rows], max(page, 1), size, total)


@dataclass(frozen=True)
class QuarantinedRecord:
    record_index: int | None
    paper_id: str | None
    title: str | None
    abstract: str | None
    abs_url: str | None
    parse_error: str | None
    reason_codes: list[str]
    reasons: list[str]


def quarantined_records(con, source: str, day: date, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """The rejected records of one partition with their reasons, in the order the source listed them."""
    rows, total = paged_rows(
        con, "record_index, paper_id, title, abstract, abs_url, parse_error, reason_codes, reasons",
        "quarantine WHERE source = ? AND date = ?", "record_index, paper_id", [source, day], page, size,
    )
    return Page([QuarantinedRecord(*row) for row in rows], max(page, 1), size, total)
