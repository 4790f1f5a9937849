-- Papers seen in the last 7 days, scored by Hugging Face upvotes (log-scaled) plus the lift of
-- their trending entities.
CREATE TABLE trending_papers AS
WITH momentum AS (
    SELECT pe.paper_id, sum(t.lift) AS entity_momentum,
           list(t.entity_id ORDER BY t.lift DESC, t.entity_id) AS trending_entities
    FROM paper_entities pe
    JOIN trending_entities t USING (entity_id, label)
    GROUP BY pe.paper_id
),
scored AS (
    SELECT p.paper_id, p.title,
           coalesce(nullif(regexp_extract(p.abstract, '^(.*?[.!?])(\s|$)', 1), ''), p.abstract) AS first_sentence,
           p.abs_url, p.pdf_url, p.upvotes,
           coalesce(m.entity_momentum, 0) AS entity_momentum,
           coalesce(m.trending_entities, []) AS trending_entities,
           ln(1 + coalesce(p.upvotes, 0)) + coalesce(m.entity_momentum, 0) AS exact_score
    FROM papers p
    LEFT JOIN momentum m USING (paper_id)
    WHERE p.last_seen BETWEEN getvariable('reference_date') - 6 AND getvariable('reference_date')
)
SELECT getvariable('reference_date') AS reference_date, paper_id, title, first_sentence, abs_url, pdf_url, upvotes,
       entity_momentum, trending_entities, round(exact_score, 4) AS score,
       row_number() OVER (ORDER BY exact_score DESC, paper_id) AS rank
FROM scored
ORDER BY rank;
