-- How many papers mention each entity, and how often in all.
CREATE TABLE entity_counts AS
SELECT entity_id, label, count(*) AS n_papers, sum(mentions) AS n_mentions
FROM paper_entities
GROUP BY entity_id, label
ORDER BY n_papers DESC, entity_id;
