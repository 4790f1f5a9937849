-- The trend series: papers mentioning each entity per partition date.
CREATE TABLE entity_daily AS
SELECT date, entity_id, label, count(DISTINCT paper_id) AS n_papers
FROM lake_entities
GROUP BY date, entity_id, label
ORDER BY date, n_papers DESC, entity_id;
