-- One row per canonical paper_id across sources and dates: the latest version's text and links.
CREATE TABLE papers AS
WITH ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY paper_id ORDER BY coalesce(version, 0) DESC, date DESC, source) AS rank
    FROM lake_clean
),
seen AS (
    SELECT paper_id,
           min(date) AS first_seen,
           max(date) AS last_seen,
           list(DISTINCT source ORDER BY source) AS sources,
           max(upvotes) AS upvotes
    FROM lake_clean
    GROUP BY paper_id
)
SELECT r.paper_id, r.version, r.title, r.abstract, r.authors, r.categories, r.primary_category,
       r.published, r.doi, r.abs_url, r.pdf_url, r.github_repo, r.content_hash,
       s.first_seen, s.last_seen, s.sources, s.upvotes
FROM ranked r
JOIN seen s USING (paper_id)
WHERE r.rank = 1
ORDER BY r.paper_id;
