-- Entities ranked by lift of the last 7 days (reference date included) over the 28 days before,
-- as papers per day, with add-one smoothing of the baseline and a minimum recent support.
CREATE TABLE trending_entities AS
WITH windows AS (
    SELECT entity_id, label,
           count(DISTINCT paper_id) FILTER (WHERE date BETWEEN getvariable('reference_date') - 6 AND getvariable('reference_date')) AS recent_papers,
           count(DISTINCT paper_id) FILTER (WHERE date BETWEEN getvariable('reference_date') - 34 AND getvariable('reference_date') - 7) AS baseline_papers
    FROM lake_entities
    GROUP BY entity_id, label
),
lifted AS (
    SELECT *, (recent_papers / 7.0) / ((baseline_papers + 1) / 28.0) AS exact_lift
    FROM windows
    WHERE recent_papers >= getvariable('min_support')
)
SELECT getvariable('reference_date') AS reference_date, entity_id, label, recent_papers, baseline_papers,
       round(exact_lift, 4) AS lift,
       row_number() OVER (ORDER BY exact_lift DESC, recent_papers DESC, entity_id, label) AS rank
FROM lifted
ORDER BY rank;
