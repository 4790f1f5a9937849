-- entity_cooccurrence: entity pairs mentioned in the same paper, the top 10 partners per entity (both directions are
-- listed) by PMI ln(P(a,b) / (P(a) P(b))) over papers that mention any entity, then by name. Ranked on counts alone:
-- most papers together first and, among an entity's partners with as many, PMI's exact order, the partner's papers
-- ascending. PMI, whose total moves with every paper, is computed where it is read (the view `entity_cooccurrence`,
-- schema.sql), so an update re-ranks only the entities whose candidates changed (08) and those among whose
-- candidates with as many papers together a partner's papers changed their order.
CREATE TEMP TABLE partner_counts AS SELECT entity_key(entity_id, label) AS entity_key, n_papers FROM entity_counts;

CREATE TEMP TABLE reordered_entities AS
WITH recounted AS (SELECT entity_key, n_papers_before FROM entity_count_changes WHERE n_papers <> n_papers_before),
tied AS (  -- an entity's candidates with as many papers together, holding a recounted partner
    SELECT DISTINCT c.entity_key, c.n_papers
    FROM state.pair_candidates c
    SEMI JOIN recounted r ON r.entity_key = c.other_key
    ANTI JOIN repaired_entities x ON x.entity_key = c.entity_key
),
members AS (
    SELECT c.entity_key, c.n_papers, coalesce(r.n_papers_before, p.n_papers) AS papers_before, p.n_papers AS papers_after,
           n.entity_id, n.label
    FROM state.pair_candidates c
    SEMI JOIN tied USING (entity_key, n_papers)
    JOIN partner_counts p ON p.entity_key = c.other_key
    JOIN state.entity_names n ON n.entity_key = c.other_key
    LEFT JOIN recounted r ON r.entity_key = c.other_key
)
SELECT DISTINCT entity_key
FROM members
QUALIFY row_number() OVER (PARTITION BY entity_key, n_papers ORDER BY papers_before, entity_id, label)
     <> row_number() OVER (PARTITION BY entity_key, n_papers ORDER BY papers_after, entity_id, label);

CREATE TEMP TABLE reranked_entities AS
SELECT entity_key FROM repaired_entities UNION SELECT entity_key FROM reordered_entities;

CREATE TEMP TABLE entity_cooccurrence_after AS
SELECT c.entity_key, c.other_key, c.n_papers,
       row_number() OVER (PARTITION BY c.entity_key ORDER BY c.n_papers DESC, p.n_papers, n.entity_id, n.label) AS rank
FROM state.pair_candidates c
SEMI JOIN reranked_entities USING (entity_key)
JOIN partner_counts p ON p.entity_key = c.other_key
JOIN state.entity_names n ON n.entity_key = c.other_key
QUALIFY rank <= 10;

DELETE FROM state.cooccurrence WHERE entity_key IN (SELECT entity_key FROM reranked_entities);
INSERT INTO state.cooccurrence SELECT * FROM entity_cooccurrence_after;
