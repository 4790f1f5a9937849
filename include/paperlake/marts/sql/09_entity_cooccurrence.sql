-- entity_cooccurrence: entity pairs mentioned in the same paper, the top 10 partners per entity (both directions are
-- listed) by PMI ln(P(a,b) / (P(a) P(b))) over papers that mention any entity, then by name. Ranked on counts alone:
-- most papers together first and, among an entity's partners with as many, PMI's exact order, the partner's papers
-- ascending. PMI, whose total moves with every paper, is computed where it is read (the view `entity_cooccurrence`,
-- schema.sql), so an update re-ranks only the entities whose candidates changed (08) and those among whose
-- candidates with as many papers together a partner's papers changed their order.

-- Every entity's papers, before this update and now, and its place by name.
CREATE TEMP TABLE partner_counts AS
SELECT k.entity_key, row_number() OVER (ORDER BY n.entity_id, n.label) AS name_rank, n.n_papers,
       coalesce(c.n_papers_before, n.n_papers) AS n_papers_before
FROM (SELECT entity_key(entity_id, label) AS entity_key, * FROM entity_counts) n
JOIN state.entity_names k USING (entity_key)
LEFT JOIN entity_count_changes c USING (entity_key);

-- The entities that can have changed places with another in an order by papers: their papers changed across
-- another entity's papers, before or now (of two entities changing places, one's change crosses the other's papers).
-- New entities are left out: their pairs are new, so every entity they are a candidate of is re-ranked anyway.
CREATE TEMP TABLE crossing_entities AS
WITH recounted AS (
    SELECT entity_key, least(n_papers, n_papers_before) AS low, greatest(n_papers, n_papers_before) AS high
    FROM partner_counts WHERE n_papers <> n_papers_before AND n_papers_before > 0
),
counted AS (  -- entities per count of papers, before or now (an unchanged one once)
    SELECT papers, count(*) AS entities
    FROM (SELECT entity_key, n_papers AS papers FROM partner_counts UNION SELECT entity_key, n_papers_before FROM partner_counts)
    GROUP BY papers
)
SELECT r.entity_key
FROM (SELECT entity_key, unnest(range(low, high + 1)) AS papers FROM recounted) r  -- as many as the papers added or lost
JOIN counted c USING (papers)
GROUP BY r.entity_key
HAVING sum(c.entities) > 2;  -- more than its own papers before and now

-- The entities, their candidates unchanged, with two candidates sharing as many papers with them that changed places
-- (one of them crossing).
CREATE TEMP TABLE reordered_entities AS
WITH ranked AS (
    SELECT c.entity_key, c.n_papers AS together, c.other_key, p.n_papers, p.n_papers_before, p.name_rank
    FROM state.pair_candidates c
    ANTI JOIN repaired_entities r ON r.entity_key = c.entity_key
    JOIN partner_counts p ON p.entity_key = c.other_key
)
SELECT DISTINCT b.entity_key
FROM ranked b
SEMI JOIN crossing_entities x ON x.entity_key = b.other_key
JOIN ranked o ON o.entity_key = b.entity_key AND o.together = b.together AND o.other_key <> b.other_key
WHERE (b.n_papers_before < o.n_papers_before OR (b.n_papers_before = o.n_papers_before AND b.name_rank < o.name_rank))
   <> (b.n_papers < o.n_papers OR (b.n_papers = o.n_papers AND b.name_rank < o.name_rank));

CREATE TEMP TABLE reranked_entities AS
SELECT entity_key FROM repaired_entities UNION SELECT entity_key FROM reordered_entities;

CREATE TEMP TABLE entity_cooccurrence_after AS
SELECT c.entity_key, c.other_key, c.n_papers,
       row_number() OVER (PARTITION BY c.entity_key ORDER BY c.n_papers DESC, p.n_papers, p.name_rank) AS rank
FROM state.pair_candidates c
SEMI JOIN reranked_entities USING (entity_key)
JOIN partner_counts p ON p.entity_key = c.other_key
QUALIFY rank <= 10;

DELETE FROM state.cooccurrence WHERE entity_key IN (SELECT entity_key FROM reranked_entities);
INSERT INTO state.cooccurrence SELECT * FROM entity_cooccurrence_after;
