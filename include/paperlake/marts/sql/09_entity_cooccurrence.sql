-- entity_cooccurrence: entity pairs mentioned in the same paper, with a PMI score ln(P(a,b) / (P(a) P(b)))
-- over papers that mention any entity; the top 10 partners per entity (both directions are listed).
-- PMI moves with every paper, so the table is rewritten from the candidates each build.
CREATE TEMP TABLE entity_order AS
SELECT entity_key, entity_id, label, row_number() OVER (ORDER BY entity_id, label) AS name_rank FROM state.entity_names;

CREATE TEMP TABLE entity_cooccurrence_after AS
WITH counts AS (SELECT entity_key(entity_id, label) AS entity_key, n_papers FROM entity_counts),
scored AS (
    SELECT c.entity_key, c.other_key, c.n_papers, o.name_rank AS other_rank,
           round(ln(c.n_papers * b.papers_with_entities / (sa.n_papers * sb.n_papers)), 4) AS pmi
    FROM state.pair_candidates c, state.build b
    JOIN counts sa ON sa.entity_key = c.entity_key
    JOIN counts sb ON sb.entity_key = c.other_key
    JOIN entity_order o ON o.entity_key = c.other_key
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY entity_key ORDER BY n_papers DESC, pmi DESC, other_rank) AS rank
    FROM scored
    QUALIFY rank <= 10
)
SELECT a.entity_id, a.label, o.entity_id AS other_entity_id, o.label AS other_label, r.n_papers, r.pmi, r.rank
FROM ranked r
JOIN entity_order a ON a.entity_key = r.entity_key
JOIN entity_order o ON o.entity_key = r.other_key;

DELETE FROM entity_cooccurrence;
INSERT INTO entity_cooccurrence SELECT * FROM entity_cooccurrence_after;
