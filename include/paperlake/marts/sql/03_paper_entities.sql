-- paper_entities: entities of each paper's current text (spans tagged on an older text are left out),
-- with the paper's first_seen, recomputed for the affected papers; their rows before are kept for the counts and pairs below.
-- The mart is stored by first_seen and its rows carry their paper's: of the mart, only the row groups of the dates the
-- affected papers had (papers_before) are read and their ids hashed; the rows found are deleted by row id (as in 02).
CREATE TEMP TABLE paper_entities_before AS
SELECT rowid AS row_id, mentions, paper_key(paper_id) AS paper_key, entity_key(entity_id, label) AS entity_key
FROM paper_entities
WHERE first_seen IN (SELECT DISTINCT first_seen FROM papers_before) AND paper_key(paper_id) IN (SELECT paper_key FROM papers_before);
DELETE FROM paper_entities WHERE rowid IN (SELECT row_id FROM paper_entities_before);

-- The rows written, on keys only (the counts and pairs below read nothing else): the ids are joined in as they are inserted.
-- A paper's spans are in the partitions of its rows: only the state's spans of those dates are read.
CREATE TEMP TABLE paper_entities_after AS
WITH spans AS (
    SELECT DISTINCT paper_key, entity_key, start_char, end_char
    FROM state.spans SEMI JOIN paper_winners USING (paper_key, text_key)
    WHERE date IN (SELECT DISTINCT date FROM state.paper_rows SEMI JOIN paper_winners USING (paper_key))
)
SELECT paper_key, entity_key, count(*) AS mentions, min(start_char) AS first_offset FROM spans GROUP BY paper_key, entity_key;

-- Stored by first_seen (as papers), without trying a dictionary on its strings (paper ids are distinct; 6.8M rows at 1M
-- papers: ~1 CPU s).
SET disabled_compression_methods = 'dictionary';
INSERT INTO paper_entities
SELECT t.paper_id, n.entity_id, n.label, k.mentions, k.first_offset, s.first_seen
FROM paper_entities_after k
JOIN paper_winners t USING (paper_key)
JOIN paper_sightings s USING (paper_key)
JOIN state.entity_names n USING (entity_key)
ORDER BY s.first_seen;
RESET disabled_compression_methods;

-- Papers that mention any entity: the PMI denominator of entity_cooccurrence.
UPDATE state.build SET papers_with_entities = papers_with_entities
    - (SELECT count(DISTINCT paper_key) FROM paper_entities_before)
    + (SELECT count(DISTINCT paper_key) FROM paper_entities_after);
