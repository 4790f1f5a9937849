"""The bench's yardstick: the same marts built the plain way, one `CREATE TABLE ... AS` per mart over the
whole lake, then every mart exported with DuckDB's own `COPY` (the growing four partitioned by date).

    python -m bench.plain_marts HOME RESULT    # one build of the lake under HOME into HOME/plain/

No state, no increments, no checks: what a data engineer would write by hand, with the domain gate's verdicts (papers'
`ml_score` / `is_ml`; the trends count ML papers only). Its marts must equal
paperlake's row for row (`differing_rows`), so the two builds are comparable.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.processes import written_mb
from paperlake.config import Settings
from paperlake.lake import Lake
from paperlake.lake_views import connect_lake_views

PLAIN_MARTS = """
SET preserve_insertion_order = false;
CREATE TEMP TABLE winners AS
SELECT * FROM lake_clean
QUALIFY row_number() OVER (PARTITION BY paper_id ORDER BY coalesce(version, 0) DESC, date DESC, source) = 1;
CREATE TABLE papers AS
WITH sightings AS (
    SELECT paper_id, min(date) AS first_seen, max(date) AS last_seen, list(DISTINCT source ORDER BY source) \
AS sources, max(upvotes) AS upvotes
    FROM lake_clean GROUP BY paper_id
)
SELECT w.paper_id, w.version, w.title, w.abstract, w.authors, w.categories, w.primary_category, w.published, w.doi, \
w.abs_url,
       w.pdf_url, w.github_repo, w.content_hash, s.first_seen, s.last_seen, s.sources, s.upvotes, v.ml_score, v.is_ml
FROM winners w JOIN sightings s USING (paper_id)
LEFT JOIN lake_verdicts v ON v.source = w.source AND v.date = w.date AND v.paper_id = w.paper_id \
AND v.content_hash = w.content_hash;
CREATE TABLE paper_entities AS
WITH spans AS (
    SELECT DISTINCT e.paper_id, e.entity_id, e.label, e.start_char, e.end_char
    FROM lake_entities e JOIN winners w ON e.paper_id = w.paper_id AND e.content_hash = w.content_hash
)
SELECT s.paper_id, s.entity_id, s.label, count(*) AS mentions, min(s.start_char) \
AS first_offset, any_value(p.first_seen) AS first_seen
FROM spans s JOIN papers p USING (paper_id) GROUP BY s.paper_id, s.entity_id, s.label;
CREATE TABLE entity_counts AS
SELECT entity_id, label, count(*) AS n_papers, sum(mentions)::HUGEINT AS n_mentions FROM paper_entities GROUP BY ALL;
CREATE TABLE entities AS
SELECT s.entity_id, s.label, s.entity_id AS canonical_name, list(DISTINCT s.text ORDER BY s.text) AS aliases_seen,
       coalesce(any_value(c.n_papers), 0) AS n_papers, min(s.date) AS first_seen, max(s.date) AS last_seen
FROM lake_entities s LEFT JOIN entity_counts c USING (entity_id, label) GROUP BY s.entity_id, s.label;
CREATE TABLE entity_daily AS
SELECT date, entity_id, label, count(DISTINCT paper_id) AS n_papers FROM lake_entities WHERE coalesce(is_ml, true) \
GROUP BY ALL;
CREATE TABLE pipeline_health AS
WITH parsed AS (SELECT source, date, count(*) AS parsed FROM lake_parsed GROUP BY ALL),
clean AS (SELECT source, date, count(*) AS clean FROM lake_clean GROUP BY ALL),
quarantine AS (SELECT source, date, count(*) AS quarantined FROM lake_quarantine GROUP BY ALL),
reasons AS (
    SELECT source, date, map(list(code ORDER BY code), list(n ORDER BY code)) AS quarantined_by_reason
    FROM (SELECT source, date, code, count(*) AS n FROM (SELECT source, date, unnest(reason_codes) AS code \
FROM lake_quarantine) GROUP BY ALL)
    GROUP BY ALL
),
tagged AS (SELECT source, date, count(*) AS entity_spans, count(DISTINCT paper_id) AS papers_with_entities \
FROM lake_entities GROUP BY ALL),
keys AS (SELECT source, date FROM lake_raw UNION SELECT source, date FROM parsed UNION SELECT source, date \
FROM lake_validation)
SELECT k.source, k.date, r.pages AS fetched_pages, r.bytes AS fetched_bytes, r.fetched_at,
       coalesce(s.parsed, 0) AS parsed, coalesce(c.clean, 0) AS clean, coalesce(q.quarantined, 0) AS quarantined,
       coalesce(rs.quarantined_by_reason, MAP {}) AS quarantined_by_reason,
       coalesce(t.entity_spans, 0) AS entity_spans, coalesce(t.papers_with_entities, 0) AS papers_with_entities,
       v.validation_success, v.run_id, v.airflow_run_id
FROM keys k LEFT JOIN lake_raw r USING (source, date) LEFT JOIN parsed s USING (source, date) LEFT JOIN clean c \
USING (source, date)
LEFT JOIN quarantine q USING (source, date) LEFT JOIN reasons rs USING (source, date) LEFT JOIN tagged t \
USING (source, date)
LEFT JOIN lake_validation v USING (source, date);
CREATE TABLE entity_cooccurrence AS
WITH pairs AS (
    SELECT a.entity_id, a.label, b.entity_id AS other_entity_id, b.label AS other_label, count(*) AS n_papers
    FROM paper_entities a JOIN paper_entities b ON a.paper_id = b.paper_id \
AND (a.entity_id, a.label) <> (b.entity_id, b.label)
    GROUP BY ALL
),
total AS (SELECT count(DISTINCT paper_id) AS papers FROM paper_entities)
SELECT p.*, round(ln(p.n_papers * t.papers / (ca.n_papers * cb.n_papers)), 4) AS pmi,
       row_number() OVER (PARTITION BY p.entity_id, p.label ORDER BY p.n_papers DESC, cb.n_papers, p.other_entity_id, \
p.other_label) AS rank
FROM pairs p, total t
JOIN entity_counts ca ON ca.entity_id = p.entity_id AND ca.label = p.label
JOIN entity_counts cb ON cb.entity_id = p.other_entity_id AND cb.label = p.other_label
QUALIFY rank <= 10;
SET VARIABLE reference_date = (SELECT max(date) FROM lake_clean);
CREATE TABLE trending_entities AS
WITH windows AS (
    SELECT entity_id, label,
           count(DISTINCT paper_id) FILTER (WHERE date >= getvariable('reference_date') - 6) AS recent_papers,
           count(DISTINCT paper_id) FILTER (WHERE date <= getvariable('reference_date') - 7) AS baseline_papers
    FROM lake_entities WHERE coalesce(is_ml, true) AND date BETWEEN getvariable('reference_date') - 34 \
AND getvariable('reference_date') GROUP BY ALL
),
lifted AS (SELECT *, (recent_papers / 7.0) / ((baseline_papers + 1) / 28.0) AS exact_lift FROM windows \
WHERE recent_papers >= 2)
SELECT getvariable('reference_date') AS reference_date, entity_id, label, recent_papers, baseline_papers, \
round(exact_lift, 4) AS lift,
       row_number() OVER (ORDER BY exact_lift DESC, recent_papers DESC, entity_id, label) AS rank
FROM lifted;
CREATE TABLE trending_papers AS
WITH recent AS (
    SELECT * FROM papers WHERE last_seen BETWEEN getvariable('reference_date') - 6 AND getvariable('reference_date') \
AND is_ml IS DISTINCT FROM false
),
momentum AS (
    SELECT e.paper_id, sum(t.lift::DECIMAL(18, 4))::DOUBLE AS entity_momentum, list(t.entity_id \
ORDER BY t.lift DESC, t.entity_id) AS trending_entities
    FROM paper_entities e SEMI JOIN recent USING (paper_id) JOIN trending_entities t USING (entity_id, label) \
GROUP BY e.paper_id
),
scored AS (
    SELECT p.paper_id, p.title, coalesce(nullif(regexp_extract(p.abstract, '^(.*?[.!?])(\\s|$)', 1), ''), p.abstract) \
AS first_sentence,
           p.abs_url, p.pdf_url, p.upvotes, coalesce(m.entity_momentum, 0) \
AS entity_momentum, coalesce(m.trending_entities, []) AS trending_entities,
           ln(1 + coalesce(p.upvotes, 0)) + coalesce(m.entity_momentum, 0) AS exact_score
    FROM recent p LEFT JOIN momentum m USING (paper_id)
)
SELECT getvariable('reference_date') AS reference_date, paper_id, title, first_sentence, abs_url, pdf_url, upvotes, \
entity_momentum,
       trending_entities, round(exact_score, 4) AS score, row_number() OVER (ORDER BY exact_score DESC, paper_id) \
AS rank
FROM scored;
CREATE TABLE quarantine AS
SELECT source, date, record_index, paper_id, title, abstract, abs_url, parse_error, reason_codes, reasons \
FROM lake_quarantine;
"""
# The exports, as paperlake writes them: (mart, rows, partition column or None).
PLAIN_EXPORTS = (
    ("papers", "SELECT * FROM papers", "first_seen"),
    ("paper_entities", "SELECT * FROM paper_entities", "first_seen"),
    ("entity_daily", "SELECT * FROM entity_daily", "date"),
    ("pipeline_health", "SELECT * FROM pipeline_health", "date"),
    *(
        (mart, f"SELECT * FROM {mart}", None)
        for mart in (
            "entity_counts", "entities", "trending_entities", "trending_papers", "entity_cooccurrence", "quarantine"
        )
    ),
)


def build(home: str) -> dict:
    """Build the plain marts of the lake under `home` into HOME/plain/: wall and CPU seconds, peak RSS, file size."""
    import duckdb

    settings = Settings.from_env({"PAPERLAKE_HOME": home})
    folder = Path(home) / "plain"
    folder.mkdir(exist_ok=True)
    path = folder / "plain.duckdb"
    path.unlink(missing_ok=True)
    cpu, started = cpu_seconds(), time.perf_counter()
    with duckdb.connect(str(path)) as con:
        con.execute("SET partitioned_write_max_open_files = 100000")
        connect_lake_views(con, Lake.from_settings(settings))
        con.execute(PLAIN_MARTS)
        built = time.perf_counter()
        for mart, rows, column in PLAIN_EXPORTS:
            target = folder / "exports" / mart
            partition = f", PARTITION_BY ({column}), OVERWRITE" if column else ""
            target.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY ({rows}) TO '{target if column else target / 'part.parquet'}' (FORMAT parquet{partition})"
            )
        con.execute("CHECKPOINT")
    finished = time.perf_counter()
    return {
        "seconds": round(finished - started, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "phases": {"marts": round(built - started, 2), "export": round(finished - built, 2)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "marts_file_mb": round(path.stat().st_size / 2**20),
        "written_mb": written_mb(),
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def differing_rows(marts: Path, plain: Path) -> dict[str, int]:
    """Per mart, the rows in one file and not the other (`EXCEPT ALL` both ways); empty when the two builds agree."""
    import duckdb

    differing = {}
    with duckdb.connect(str(marts), read_only=True) as con:
        con.execute(f"ATTACH '{plain}' AS plain (READ_ONLY)")
        for mart, _, _ in PLAIN_EXPORTS:
            columns = ", ".join(
                name for (name,) in con.execute(f"SELECT column_name FROM (DESCRIBE plain.{mart})").fetchall()
            )
            ours, theirs = f"SELECT {columns} FROM main.{mart}", f"SELECT {columns} FROM plain.{mart}"
            n = con.execute(
                f"SELECT (SELECT count(*) FROM ({ours} EXCEPT ALL {theirs})) + (SELECT count(*) FROM ({theirs} EXCEPT "
                f"ALL {ours}))"
            ).fetchone()[0]
            if n:
                differing[mart] = n
    return differing


if __name__ == "__main__":
    home, result = sys.argv[1:]
    Path(result).write_text(json.dumps(build(home)))
