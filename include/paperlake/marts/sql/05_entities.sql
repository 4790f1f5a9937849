-- entities: one row per entity seen in any span: canonical name, the spellings seen, papers, first and
-- last seen; recomputed for entities whose spans or counts changed.
CREATE TEMP TABLE affected_entities AS
SELECT entity_key FROM respanned_entities UNION SELECT entity_key FROM entity_count_changes;

CREATE TEMP TABLE entities_after AS
WITH seen AS (
    SELECT entity_key, min(date) AS first_seen, max(date) AS last_seen, list(DISTINCT text ORDER BY text) AS aliases_seen
    FROM state.entity_aliases SEMI JOIN affected_entities USING (entity_key)
    GROUP BY entity_key
)
SELECT n.entity_id, n.label, n.entity_id AS canonical_name, s.aliases_seen, coalesce(c.n_papers, 0) AS n_papers,
       s.first_seen, s.last_seen
FROM seen s
JOIN state.entity_names n USING (entity_key)
LEFT JOIN entity_counts c ON c.entity_id = n.entity_id AND c.label = n.label;

DELETE FROM entities USING (SELECT entity_id, label FROM state.entity_names SEMI JOIN affected_entities USING (entity_key)) a
WHERE entities.entity_id = a.entity_id AND entities.label = a.label;
INSERT INTO entities SELECT * FROM entities_after;
