-- The state's keys: 64-bit hashes of the lake's ids. A paper or entity key shared by two ids fails the
-- build (check_marts); a text key is only ever compared within one paper's texts. The hash function is
-- DuckDB's, so a state written by another DuckDB version is rebuilt, not reused.
CREATE OR REPLACE TEMP MACRO paper_key(paper_id) AS hash(paper_id);
-- Spans count for a paper only when tagged on its current text; a text without a hash matches nothing.
CREATE OR REPLACE TEMP MACRO text_key(paper_id, content_hash) AS CASE WHEN content_hash IS NOT NULL THEN hash(paper_id, content_hash) END;
CREATE OR REPLACE TEMP MACRO entity_key(entity_id, label) AS hash(entity_id, label);
