-- entity_counts: how many papers mention each entity, and how often in all; moved by the affected
-- papers' entity rows (after minus before), entities left with no paper dropped.
CREATE TEMP TABLE entity_count_changes AS
WITH change AS (
    SELECT entity_key, sum(sign) AS papers, sum(sign * mentions) AS mentions
    FROM (
        SELECT entity_key, mentions, 1 AS sign FROM paper_entities_after
        UNION ALL
        SELECT entity_key, mentions, -1 AS sign FROM paper_entities_before
    )
    GROUP BY entity_key
),
counted AS (SELECT entity_key(entity_id, label) AS entity_key, n_papers, n_mentions FROM entity_counts)
SELECT n.entity_id, n.label, coalesce(e.n_papers, 0) + c.papers AS n_papers, coalesce(e.n_mentions, 0) + c.mentions AS n_mentions,
       c.entity_key, coalesce(e.n_papers, 0) AS n_papers_before
FROM change c
JOIN state.entity_names n USING (entity_key)
LEFT JOIN counted e USING (entity_key)
WHERE c.papers <> 0 OR c.mentions <> 0;

CREATE TEMP TABLE entity_counts_after AS SELECT entity_id, label, n_papers, n_mentions FROM entity_count_changes WHERE n_papers > 0;

DELETE FROM entity_counts USING entity_count_changes c WHERE entity_counts.entity_id = c.entity_id AND entity_counts.label = c.label;
INSERT INTO entity_counts SELECT * FROM entity_counts_after;
