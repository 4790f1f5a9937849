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

-- Top-10 candidates of the entities whose pairs changed, from their pool: their candidates before (counts moved) and
-- their changed pairs. Any other pair of theirs has fewer papers than their least candidate before, so the pool holds
-- every new candidate when it keeps 10 pairs with at least that many papers (its 10th largest count is then no lower),
-- or when there were no other pairs (fewer than 10 candidates, or the least had one paper). An entity whose pool is
-- depleted below that (a top pair lost papers) is recomputed from all its pairs.
CREATE TEMP TABLE changed_partners AS
SELECT entity_key, other_key, change, n_papers FROM pair_changes
UNION ALL
SELECT other_key, entity_key, change, n_papers FROM pair_changes;

CREATE TEMP TABLE repaired_entities AS SELECT DISTINCT entity_key FROM changed_partners;

CREATE TEMP TABLE candidate_pool AS
SELECT c.entity_key, c.other_key, c.n_papers
FROM state.pair_candidates c SEMI JOIN repaired_entities USING (entity_key) ANTI JOIN changed_partners x USING (entity_key, other_key)
UNION ALL
SELECT entity_key, other_key, n_papers FROM changed_partners WHERE n_papers > 0;

CREATE TEMP TABLE depleted_entities AS
WITH bounds AS (
    SELECT entity_key, min(n_papers) AS least, count(*) AS candidates
    FROM state.pair_candidates SEMI JOIN repaired_entities USING (entity_key)
    GROUP BY entity_key
),
kept AS (
    SELECT p.entity_key, count(*) AS candidates
    FROM candidate_pool p JOIN bounds b ON b.entity_key = p.entity_key AND p.n_papers >= b.least
    GROUP BY p.entity_key
)
SELECT b.entity_key FROM bounds b LEFT JOIN kept k USING (entity_key)
WHERE b.candidates >= 10 AND b.least > 1 AND coalesce(k.candidates, 0) < 10;

DELETE FROM candidate_pool WHERE entity_key IN (SELECT entity_key FROM depleted_entities);
INSERT INTO candidate_pool
SELECT p.entity_key, p.other_key, p.n_papers FROM state.pairs p SEMI JOIN depleted_entities USING (entity_key)
UNION ALL
SELECT p.other_key, p.entity_key, p.n_papers FROM state.pairs p SEMI JOIN depleted_entities d ON p.other_key = d.entity_key;

DELETE FROM state.pair_candidates WHERE entity_key IN (SELECT entity_key FROM repaired_entities);
INSERT INTO state.pair_candidates
WITH threshold AS (SELECT entity_key, list_min(max(n_papers, 10)) AS least FROM candidate_pool GROUP BY entity_key)
SELECT p.entity_key, p.other_key, p.n_papers FROM candidate_pool p JOIN threshold t USING (entity_key) WHERE p.n_papers >= t.least;
