-- A new marts file: the marts, empty, and the build state behind them (schema `state`).
-- The state holds what each committed partition contributed, keyed by the run it came from, so a
-- build recomputes only what the partitions that changed touch. Papers, paper texts and entities are
-- keyed there by hash (see keys.sql); the marts themselves carry the lake's ids.
CREATE SCHEMA state;
-- uncompacted_updates: the updates since the last build whose checkpoint merged no row groups (see COMPACT_AFTER_UPDATES).
CREATE TABLE state.build (state_version INTEGER, duckdb_version VARCHAR, papers_with_entities BIGINT, uncompacted_updates INTEGER);
INSERT INTO state.build VALUES (getvariable('state_version'), getvariable('duckdb_version'), 0, 0);
CREATE TABLE state.partitions (source VARCHAR, date DATE, generation BIGINT, run_id VARCHAR);
-- Clean rows per partition, without their text: a paper's text is read from the lake when its current row changes.
CREATE TABLE state.paper_rows (source VARCHAR, date DATE, paper_key UBIGINT, paper_id VARCHAR, version INTEGER, content_hash VARCHAR, upvotes INTEGER);
-- is_ml: the domain gate's verdict on the span's paper (true for spans tagged before the gate; the score is in state.verdicts).
CREATE TABLE state.spans (source VARCHAR, date DATE, paper_key UBIGINT, text_key UBIGINT, entity_key UBIGINT, start_char INTEGER, end_char INTEGER, is_ml BOOLEAN);
-- The domain gate's verdict on each paper text a partition's tag run saw (from its tagged sidecar; none for runs tagged before).
CREATE TABLE state.verdicts (source VARCHAR, date DATE, paper_key UBIGINT, text_key UBIGINT, ml_score DOUBLE, is_ml BOOLEAN);
CREATE TABLE state.entity_aliases (source VARCHAR, date DATE, entity_key UBIGINT, text VARCHAR);
CREATE TABLE state.entity_names (entity_key UBIGINT, entity_id VARCHAR, label VARCHAR);
-- Papers mentioning both entities (entity_key < other_key), over each paper's current text.
CREATE TABLE state.pairs (entity_key UBIGINT, other_key UBIGINT, n_papers BIGINT);
-- Per entity, every partner that can rank in its top 10: n_papers at least its 10th largest.
CREATE TABLE state.pair_candidates (entity_key UBIGINT, other_key UBIGINT, n_papers BIGINT);
-- The top 10 partners of each entity, on keys and counts: what the view entity_cooccurrence names and scores.
CREATE TABLE state.cooccurrence (entity_key UBIGINT, other_key UBIGINT, n_papers BIGINT, rank BIGINT);

CREATE TABLE papers (
    paper_id VARCHAR, version INTEGER, title VARCHAR, abstract VARCHAR, authors VARCHAR[], categories VARCHAR[],
    primary_category VARCHAR, published TIMESTAMPTZ, doi VARCHAR, abs_url VARCHAR, pdf_url VARCHAR, github_repo VARCHAR,
    content_hash VARCHAR, first_seen DATE, last_seen DATE, sources VARCHAR[], upvotes INTEGER,
    -- the domain gate on the current row's text (null when its partition was tagged before the gate): trends leave out is_ml = false
    ml_score DOUBLE, is_ml BOOLEAN
);
-- A paper's entities carry its first_seen: the partition of their export, as of the paper's.
CREATE TABLE paper_entities (paper_id VARCHAR, entity_id VARCHAR, label VARCHAR, mentions BIGINT, first_offset INTEGER, first_seen DATE);
CREATE TABLE entity_counts (entity_id VARCHAR, label VARCHAR, n_papers BIGINT, n_mentions HUGEINT);
CREATE TABLE entities (
    entity_id VARCHAR, label VARCHAR, canonical_name VARCHAR, aliases_seen VARCHAR[], n_papers BIGINT, first_seen DATE, last_seen DATE
);
CREATE TABLE entity_daily (date DATE, entity_id VARCHAR, label VARCHAR, n_papers BIGINT);
CREATE TABLE trending_entities (
    reference_date DATE, entity_id VARCHAR, label VARCHAR, recent_papers BIGINT, baseline_papers BIGINT, lift DOUBLE, rank BIGINT
);
CREATE TABLE trending_papers (
    reference_date DATE, paper_id VARCHAR, title VARCHAR, first_sentence VARCHAR, abs_url VARCHAR, pdf_url VARCHAR,
    upvotes INTEGER, entity_momentum DOUBLE, trending_entities VARCHAR[], score DOUBLE, rank BIGINT
);
-- A view: the ranking is stored on keys and counts, named and scored where it is read (PMI's total moves with every
-- paper: PMI = ln(n_ab * N / (n_a * n_b)), N the papers that mention any entity).
CREATE VIEW entity_cooccurrence AS
SELECT a.entity_id, a.label, o.entity_id AS other_entity_id, o.label AS other_label, c.n_papers,
       round(ln(c.n_papers * b.papers_with_entities / (ca.n_papers * co.n_papers)), 4) AS pmi, c.rank
FROM state.cooccurrence c
JOIN state.entity_names a ON a.entity_key = c.entity_key
JOIN state.entity_names o ON o.entity_key = c.other_key
JOIN entity_counts ca ON ca.entity_id = a.entity_id AND ca.label = a.label
JOIN entity_counts co ON co.entity_id = o.entity_id AND co.label = o.label
CROSS JOIN state.build b;
CREATE TABLE pipeline_health (
    source VARCHAR, date DATE, fetched_pages BIGINT, fetched_bytes BIGINT, fetched_at VARCHAR, parsed BIGINT, clean BIGINT,
    quarantined BIGINT, quarantined_by_reason MAP(VARCHAR, BIGINT), entity_spans BIGINT, papers_with_entities BIGINT,
    validation_success BOOLEAN,
    run_id VARCHAR,  -- the lake's run of the partition (its commit's)
    airflow_run_id VARCHAR  -- the Airflow run that wrote it (NULL for a `paperlake ingest` run)
);
CREATE TABLE quarantine (
    source VARCHAR, date DATE, record_index INTEGER, paper_id VARCHAR, title VARCHAR, abstract VARCHAR, abs_url VARCHAR,
    parse_error VARCHAR, reason_codes VARCHAR[], reasons VARCHAR[]
);
