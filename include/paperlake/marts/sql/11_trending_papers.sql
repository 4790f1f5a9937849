-- trending_papers: papers seen in the last 7 days, scored by Hugging Face upvotes (log-scaled) plus the
-- lift of their trending entities; papers the domain gate rejects are left out. Rewritten each build.
CREATE TEMP TABLE trending_papers_after AS
WITH recent AS (
    SELECT *, paper_key(paper_id) AS paper_key, text_key(paper_id, content_hash) AS text_key
    FROM papers
    WHERE last_seen BETWEEN getvariable('reference_date') - 6 AND getvariable('reference_date') AND is_ml IS DISTINCT FROM false
),
recent_entities AS (  -- the paper_entities of recent papers: entities of spans on their current text
    SELECT DISTINCT paper_key, entity_key FROM state.spans SEMI JOIN recent USING (paper_key, text_key)
),
momentum AS (
    -- summed exactly (lifts have 4 decimals), so the order rows arrive in cannot change the last bit
    SELECT e.paper_key, sum(t.lift::DECIMAL(18, 4))::DOUBLE AS entity_momentum,
           list(t.entity_id ORDER BY t.lift DESC, t.entity_id) AS trending_entities
    FROM recent_entities e
    JOIN (SELECT *, entity_key(entity_id, label) AS entity_key FROM trending_entities) t USING (entity_key)
    GROUP BY e.paper_key
),
scored AS (
    SELECT p.paper_id, p.title,
           coalesce(nullif(regexp_extract(p.abstract, '^(.*?[.!?])(\s|$)', 1), ''), p.abstract) AS first_sentence,
           p.abs_url, p.pdf_url, p.upvotes,
           coalesce(m.entity_momentum, 0) AS entity_momentum,
           coalesce(m.trending_entities, []) AS trending_entities,
           ln(1 + coalesce(p.upvotes, 0)) + coalesce(m.entity_momentum, 0) AS exact_score
    FROM recent p
    LEFT JOIN momentum m USING (paper_key)
)
SELECT getvariable('reference_date') AS reference_date, paper_id, title, first_sentence, abs_url, pdf_url, upvotes,
       entity_momentum, trending_entities, round(exact_score, 4) AS score,
       row_number() OVER (ORDER BY exact_score DESC, paper_id) AS rank
FROM scored
ORDER BY rank;

DELETE FROM trending_papers;
INSERT INTO trending_papers SELECT * FROM trending_papers_after;
