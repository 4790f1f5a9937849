-- entity_daily, the trend series: ML papers (the domain gate's) mentioning each entity per partition date, recomputed
-- for the touched dates; a rejected paper's kept gazetteer names do not count, as in trending_entities.
CREATE TEMP TABLE entity_daily_after AS
WITH daily AS (
    SELECT date, entity_key, count(DISTINCT paper_key) AS n_papers
    FROM state.spans
    WHERE is_ml AND date IN (SELECT date FROM touched)
    GROUP BY date, entity_key
)
SELECT d.date, n.entity_id, n.label, d.n_papers FROM daily d JOIN state.entity_names n USING (entity_key);

DELETE FROM entity_daily WHERE date IN (SELECT date FROM touched);
INSERT INTO entity_daily SELECT * FROM entity_daily_after;
