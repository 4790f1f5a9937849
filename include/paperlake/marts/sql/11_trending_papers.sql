-- trending_papers: papers seen in the last 7 days, scored by Hugging Face upvotes (log-scaled) plus the
-- lift of their trending entities; papers the domain gate rejects are left out. Rewritten each build; of the papers'
-- text, only the rows this update wrote are read (decompressing the scattered rows of older papers cost most of it).
CREATE TEMP TABLE recent_papers AS
SELECT rowid AS row_id, paper_id, paper_key(paper_id) AS paper_key, text_key(paper_id, content_hash) AS text_key, upvotes
FROM papers
WHERE last_seen BETWEEN getvariable('reference_date') - 6 AND getvariable('reference_date') AND is_ml IS DISTINCT FROM false;

-- A paper this update left alone has the text it had in the previous build's trending_papers (if it was in it).
CREATE TEMP TABLE recent_texts AS
SELECT paper_id, title, first_sentence, abs_url, pdf_url
FROM trending_papers
WHERE paper_id IN (SELECT paper_id FROM recent_papers ANTI JOIN affected_papers USING (paper_key));

-- The others' text is read from papers, from the span of rows holding them: the rows an update wrote are the last
-- ones (a range of row ids is applied on the scan, a list of ids only after reading every row's text).
CREATE TEMP TABLE untexted_papers AS SELECT row_id, paper_id FROM recent_papers ANTI JOIN recent_texts USING (paper_id);
SET VARIABLE untexted_from = (SELECT min(row_id) FROM untexted_papers);
SET VARIABLE untexted_to = (SELECT max(row_id) FROM untexted_papers);
INSERT INTO recent_texts
SELECT paper_id, title, coalesce(nullif(regexp_extract(abstract, '^(.*?[.!?])(\s|$)', 1), ''), abstract), abs_url, pdf_url
FROM papers
WHERE rowid BETWEEN getvariable('untexted_from') AND getvariable('untexted_to')
  AND rowid IN (SELECT row_id FROM untexted_papers);

CREATE TEMP TABLE trending_papers_after AS
WITH recent_entities AS (
    -- the paper_entities of recent papers: entities of spans on their current text, in the partitions of their rows
    SELECT DISTINCT paper_key, entity_key
    FROM state.spans SEMI JOIN recent_papers USING (paper_key, text_key)
    WHERE date IN (SELECT DISTINCT date FROM state.paper_rows SEMI JOIN recent_papers USING (paper_key))
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
    SELECT p.paper_id, x.title, x.first_sentence, x.abs_url, x.pdf_url, p.upvotes,
           coalesce(m.entity_momentum, 0) AS entity_momentum,
           coalesce(m.trending_entities, []) AS trending_entities,
           ln(1 + coalesce(p.upvotes, 0)) + coalesce(m.entity_momentum, 0) AS exact_score
    FROM recent_papers p
    JOIN recent_texts x USING (paper_id)
    LEFT JOIN momentum m USING (paper_key)
)
SELECT getvariable('reference_date') AS reference_date, paper_id, title, first_sentence, abs_url, pdf_url, upvotes,
       entity_momentum, trending_entities, round(exact_score, 4) AS score,
       row_number() OVER (ORDER BY exact_score DESC, paper_id) AS rank
FROM scored
ORDER BY rank;

DELETE FROM trending_papers;
INSERT INTO trending_papers SELECT * FROM trending_papers_after;
