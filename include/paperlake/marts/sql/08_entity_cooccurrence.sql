-- Entity pairs mentioned in the same paper, with a PMI score ln(P(a,b) / (P(a) P(b))) over papers
-- that mention any entity; the top 10 partners per entity (both directions are listed).
CREATE TABLE entity_cooccurrence AS
WITH totals AS (SELECT count(DISTINCT paper_id) AS n FROM paper_entities),
pairs AS (
    SELECT a.entity_id, a.label, b.entity_id AS other_entity_id, b.label AS other_label, count(*) AS n_papers
    FROM paper_entities a
    JOIN paper_entities b ON a.paper_id = b.paper_id AND (a.entity_id, a.label) <> (b.entity_id, b.label)
    GROUP BY ALL
),
scored AS (
    SELECT p.*, round(ln(p.n_papers * t.n / (sa.n_papers * sb.n_papers)), 4) AS pmi
    FROM pairs p, totals t
    JOIN entity_counts sa ON sa.entity_id = p.entity_id AND sa.label = p.label
    JOIN entity_counts sb ON sb.entity_id = p.other_entity_id AND sb.label = p.other_label
)
SELECT *, row_number() OVER (PARTITION BY entity_id, label ORDER BY n_papers DESC, pmi DESC, other_entity_id, other_label) AS rank
FROM scored
QUALIFY rank <= 10
ORDER BY entity_id, label, rank;
