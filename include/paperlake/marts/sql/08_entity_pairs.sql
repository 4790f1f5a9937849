-- Pair counts: papers mentioning both entities, moved by the affected papers' entity rows (after minus before).
CREATE TEMP TABLE pair_changes AS
WITH signed AS (
    SELECT paper_key, entity_key, 1 AS sign FROM paper_entities_after
    UNION ALL
    SELECT paper_key, entity_key, -1 AS sign FROM paper_entities_before
),
change AS (
    SELECT a.entity_key, b.entity_key AS other_key, sum(a.sign) AS change
    FROM signed a
    JOIN signed b ON a.paper_key = b.paper_key AND a.sign = b.sign AND a.entity_key < b.entity_key
    GROUP BY ALL
    HAVING sum(a.sign) <> 0
)
SELECT c.entity_key, c.other_key, c.change, coalesce(p.n_papers, 0) + c.change AS n_papers
FROM change c
LEFT JOIN state.pairs p USING (entity_key, other_key);

DELETE FROM state.pairs USING pair_changes c WHERE pairs.entity_key = c.entity_key AND pairs.other_key = c.other_key;
INSERT INTO state.pairs SELECT entity_key, other_key, n_papers FROM pair_changes WHERE n_papers > 0;

-- Top-10 candidates of the entities whose pairs changed. An entity whose pairs only grew keeps its old
-- candidates (its 10th largest count can only rise), so its new ones are among those and the changed
-- pairs; an entity that lost papers in a pair is recomputed from all its pairs.
CREATE TEMP TABLE changed_partners AS
SELECT entity_key, other_key, change, n_papers FROM pair_changes
UNION ALL
SELECT other_key, entity_key, change, n_papers FROM pair_changes;

CREATE TEMP TABLE repaired_entities AS
SELECT entity_key, bool_or(change < 0) AS shrank FROM changed_partners GROUP BY entity_key;

CREATE TEMP TABLE candidate_pool AS
WITH shrank AS (SELECT entity_key FROM repaired_entities WHERE shrank),
grew AS (SELECT entity_key FROM repaired_entities WHERE NOT shrank)
SELECT p.entity_key, p.other_key, p.n_papers FROM state.pairs p SEMI JOIN shrank USING (entity_key)
UNION ALL
SELECT p.other_key, p.entity_key, p.n_papers FROM state.pairs p SEMI JOIN shrank ON p.other_key = shrank.entity_key
UNION ALL
SELECT c.entity_key, c.other_key, c.n_papers
FROM state.pair_candidates c SEMI JOIN grew USING (entity_key) ANTI JOIN changed_partners x USING (entity_key, other_key)
UNION ALL
SELECT x.entity_key, x.other_key, x.n_papers FROM changed_partners x SEMI JOIN grew USING (entity_key);

DELETE FROM state.pair_candidates WHERE entity_key IN (SELECT entity_key FROM repaired_entities);
INSERT INTO state.pair_candidates
WITH threshold AS (SELECT entity_key, list_min(max(n_papers, 10)) AS least FROM candidate_pool GROUP BY entity_key)
SELECT p.entity_key, p.other_key, p.n_papers FROM candidate_pool p JOIN threshold t USING (entity_key) WHERE p.n_papers >= t.least;
