-- entity_cooccurrence: entity pairs mentioned in the same paper, with a PMI score ln(P(a,b) / (P(a) P(b)))
-- over papers that mention any entity; the top 10 partners per entity (both directions are listed).
-- PMI moves with every paper, so the ranking is rewritten from the candidates each build: on keys only, the view
-- `entity_cooccurrence` (schema.sql) names them.
CREATE TEMP TABLE entity_order AS
SELECT entity_key, row_number() OVER (ORDER BY entity_id, label) AS name_rank FROM state.entity_names;

CREATE TEMP TABLE entity_cooccurrence_after AS
WITH counts AS (SELECT entity_key(entity_id, label) AS entity_key, n_papers FROM entity_counts),
scored AS (
    SELECT c.entity_key, c.other_key, c.n_papers, o.name_rank AS other_rank,
           round(ln(c.n_papers * b.papers_with_entities / (sa.n_papers * sb.n_papers)), 4) AS pmi
    FROM state.pair_candidates c, state.build b
    JOIN counts sa ON sa.entity_key = c.entity_key
    JOIN counts sb ON sb.entity_key = c.other_key
    JOIN entity_order o ON o.entity_key = c.other_key
)
SELECT entity_key, other_key, n_papers, pmi, row_number() OVER (PARTITION BY entity_key ORDER BY n_papers DESC, pmi DESC, other_rank) AS rank
FROM scored
QUALIFY rank <= 10;

DELETE FROM state.cooccurrence;
INSERT INTO state.cooccurrence SELECT * FROM entity_cooccurrence_after;
