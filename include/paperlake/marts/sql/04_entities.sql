-- One row per entity: canonical name, the spellings seen, how many papers, when first and last seen.
CREATE TABLE entities AS
WITH seen AS (
    SELECT entity_id, label, min(date) AS first_seen, max(date) AS last_seen,
           list(DISTINCT text ORDER BY text) AS aliases_seen
    FROM lake_entities
    GROUP BY entity_id, label
)
SELECT s.entity_id, s.label, s.entity_id AS canonical_name, s.aliases_seen,
       coalesce(c.n_papers, 0) AS n_papers, s.first_seen, s.last_seen
FROM seen s
LEFT JOIN entity_counts c USING (entity_id, label)
ORDER BY n_papers DESC, entity_id, label;
