-- Swap the touched partitions' contributions in the state (the lake_* views cover the changed ones),
-- noting what changes: the papers whose rows or spans change, and the entities whose spans change.
CREATE TEMP TABLE papers_touched_before AS
SELECT paper_key FROM state.paper_rows SEMI JOIN touched USING (source, date)
UNION SELECT paper_key FROM state.spans SEMI JOIN touched USING (source, date);
CREATE TEMP TABLE entities_touched_before AS
SELECT DISTINCT entity_key FROM state.entity_aliases SEMI JOIN touched USING (source, date);

DELETE FROM state.paper_rows USING touched t WHERE paper_rows.source = t.source AND paper_rows.date = t.date;
DELETE FROM state.spans USING touched t WHERE spans.source = t.source AND spans.date = t.date;
DELETE FROM state.verdicts USING touched t WHERE verdicts.source = t.source AND verdicts.date = t.date;
DELETE FROM state.entity_aliases USING touched t WHERE entity_aliases.source = t.source AND entity_aliases.date = t.date;
DELETE FROM state.partitions USING touched t WHERE partitions.source = t.source AND partitions.date = t.date;

INSERT INTO state.paper_rows SELECT source, date, paper_key(paper_id), paper_id, version, content_hash, upvotes FROM lake_clean;
INSERT INTO state.spans
SELECT source, date, paper_key(paper_id), text_key(paper_id, content_hash), entity_key(entity_id, label), start_char, end_char,
       coalesce(is_ml, true)
FROM lake_entities;
INSERT INTO state.verdicts
SELECT source, date, paper_key(paper_id), text_key(paper_id, content_hash), ml_score, is_ml FROM lake_verdicts;
CREATE TEMP TABLE new_aliases AS
SELECT DISTINCT source, date, entity_key(entity_id, label) AS entity_key, entity_id, label, text FROM lake_entities;
INSERT INTO state.entity_aliases SELECT source, date, entity_key, text FROM new_aliases;
INSERT INTO state.entity_names SELECT entity_key, entity_id, label FROM new_aliases EXCEPT SELECT * FROM state.entity_names;
INSERT INTO state.partitions SELECT source, date, generation, run_id FROM changed_runs;

CREATE TEMP TABLE affected_papers AS
SELECT paper_key FROM papers_touched_before
UNION SELECT paper_key FROM state.paper_rows SEMI JOIN touched USING (source, date)
UNION SELECT paper_key FROM state.spans SEMI JOIN touched USING (source, date);
CREATE TEMP TABLE respanned_entities AS
SELECT entity_key FROM entities_touched_before UNION SELECT entity_key FROM new_aliases;
