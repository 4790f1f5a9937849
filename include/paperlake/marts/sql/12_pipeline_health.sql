-- pipeline_health, per source and date: what was fetched, parsed, kept, quarantined (by reason) and
-- tagged; recomputed for the changed partitions (a vanished one's row goes). The counts of parsed and quarantined
-- rows are the commits' (`changed_runs`), the reasons those of the quarantine rows just written (07_quarantine.sql):
-- of the lake, only the raw manifests and validation results are read.
CREATE TEMP TABLE pipeline_health_after AS
WITH clean AS (SELECT source, date, count(*) AS clean FROM state.paper_rows SEMI JOIN touched USING (source, date) GROUP BY ALL),
reasons AS (
    SELECT source, date, map(list(code ORDER BY code), list(n ORDER BY code)) AS quarantined_by_reason
    FROM (
        SELECT source, date, code, count(*) AS n
        FROM (SELECT source, date, unnest(reason_codes) AS code FROM quarantine_after)
        GROUP BY ALL
    )
    GROUP BY ALL
),
tagged AS (
    SELECT source, date, count(*) AS entity_spans, count(DISTINCT paper_key) AS papers_with_entities
    FROM state.spans SEMI JOIN touched USING (source, date)
    GROUP BY ALL
)
SELECT k.source, k.date, r.pages AS fetched_pages, r.bytes AS fetched_bytes, r.fetched_at,
       k.parsed_rows AS parsed, coalesce(c.clean, 0) AS clean, k.quarantine_rows AS quarantined,
       coalesce(rs.quarantined_by_reason, MAP {}) AS quarantined_by_reason,
       coalesce(t.entity_spans, 0) AS entity_spans, coalesce(t.papers_with_entities, 0) AS papers_with_entities,
       v.validation_success, v.run_id, v.airflow_run_id
FROM changed_runs k
LEFT JOIN lake_raw r USING (source, date)
LEFT JOIN clean c USING (source, date)
LEFT JOIN reasons rs USING (source, date)
LEFT JOIN tagged t USING (source, date)
LEFT JOIN lake_validation v USING (source, date);

DELETE FROM pipeline_health USING touched t WHERE pipeline_health.source = t.source AND pipeline_health.date = t.date;
INSERT INTO pipeline_health SELECT * FROM pipeline_health_after;
