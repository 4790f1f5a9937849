-- trending_entities: entities ranked by lift of the last 7 days (reference date included) over the 28 days
-- before, as papers per day, with add-one smoothing of the baseline and a minimum recent support.
-- Only papers the domain gate takes for ML count.
-- Rewritten each build from the spans of those 35 days.
CREATE TEMP TABLE trending_entities_after AS
WITH windows AS (
    SELECT entity_key,
           count(DISTINCT paper_key) FILTER (WHERE date BETWEEN getvariable('reference_date') - 6 AND getvariable('reference_date')) AS recent_papers,
           count(DISTINCT paper_key) FILTER (WHERE date BETWEEN getvariable('reference_date') - 34 AND getvariable('reference_date') - 7) AS baseline_papers
    FROM state.spans
    WHERE is_ml AND date BETWEEN getvariable('reference_date') - 34 AND getvariable('reference_date')
    GROUP BY entity_key
),
lifted AS (
    SELECT n.entity_id, n.label, w.recent_papers, w.baseline_papers,
           (w.recent_papers / 7.0) / ((w.baseline_papers + 1) / 28.0) AS exact_lift
    FROM windows w
    JOIN state.entity_names n USING (entity_key)
    WHERE w.recent_papers >= getvariable('min_support')
)
SELECT getvariable('reference_date') AS reference_date, entity_id, label, recent_papers, baseline_papers,
       round(exact_lift, 4) AS lift,
       row_number() OVER (ORDER BY exact_lift DESC, recent_papers DESC, entity_id, label) AS rank
FROM lifted
ORDER BY rank;

DELETE FROM trending_entities;
INSERT INTO trending_entities SELECT * FROM trending_entities_after;
