-- Entities of each paper's current text (spans tagged on an older text of the paper are left out).
CREATE TABLE paper_entities AS
WITH spans AS (
    SELECT DISTINCT e.paper_id, e.entity_id, e.label, e.start_char, e.end_char
    FROM lake_entities e
    JOIN papers p ON p.paper_id = e.paper_id AND p.content_hash = e.content_hash
)
SELECT paper_id, entity_id, label, count(*) AS mentions, min(start_char) AS first_offset
FROM spans
GROUP BY paper_id, entity_id, label
ORDER BY paper_id, first_offset;
