-- papers: one row per canonical paper_id across sources and dates, the latest version's text and links,
-- recomputed for the affected papers from every partition's rows of them. The text of a paper whose
-- current row is in a partition read (`lake_texts`) comes from there; any other paper keeps its current
-- row, and only its sightings move.
CREATE TEMP TABLE paper_winners AS
SELECT paper_key, paper_id, source, date, text_key(paper_id, content_hash) AS text_key
FROM state.paper_rows SEMI JOIN affected_papers USING (paper_key)
QUALIFY row_number() OVER (PARTITION BY paper_key ORDER BY coalesce(version, 0) DESC, date DESC, source) = 1;

CREATE TEMP TABLE paper_sightings AS
SELECT paper_key, min(date) AS first_seen, max(date) AS last_seen, list(DISTINCT source ORDER BY source) AS sources,
       max(upvotes) AS upvotes
FROM state.paper_rows SEMI JOIN affected_papers USING (paper_key)
GROUP BY paper_key;

CREATE TEMP TABLE papers_kept AS
SELECT w.paper_id, s.* FROM paper_winners w ANTI JOIN text_partitions USING (source, date) JOIN paper_sightings s USING (paper_key);

-- The papers whose row is written from the lake (their keys, for the check).
CREATE TEMP TABLE papers_after AS SELECT paper_id FROM paper_winners SEMI JOIN text_partitions USING (source, date);

-- The mart is scanned (and its ids hashed) once: the affected papers' rows found here are deleted, or updated when
-- their row is kept, by row id (stable: an update is one transaction, a new file's papers are empty); then the papers
-- whose row is read from the lake are inserted.
CREATE TEMP TABLE papers_before AS
SELECT rowid AS row_id, paper_key(paper_id) AS paper_key, first_seen FROM papers WHERE paper_key(paper_id) IN (SELECT paper_key FROM affected_papers);

-- The first_seen partitions of the papers and paper_entities exports this update rewrites: the affected
-- papers' before and after.
CREATE TEMP TABLE paper_export_dates AS
SELECT first_seen FROM papers_before
UNION SELECT first_seen FROM paper_sightings;

DELETE FROM papers WHERE rowid IN (SELECT row_id FROM papers_before ANTI JOIN papers_kept USING (paper_key));
UPDATE papers SET first_seen = k.first_seen, last_seen = k.last_seen, sources = k.sources, upvotes = k.upvotes
FROM (SELECT b.row_id, k.* FROM papers_before b JOIN papers_kept k USING (paper_key)) k WHERE papers.rowid = k.row_id;

-- Stored by first_seen, so that exporting a few first_seen partitions reads only their rows. Its strings are nearly
-- all distinct: no dictionary is tried on them (it cost ~1.5 CPU s of a full build at 1M papers, FSST takes them).
SET disabled_compression_methods = 'dictionary';
INSERT INTO papers
SELECT t.paper_id, t.version, t.title, t.abstract, t.authors, t.categories, t.primary_category,
       t.published, t.doi, t.abs_url, t.pdf_url, t.github_repo, t.content_hash,
       s.first_seen, s.last_seen, s.sources, s.upvotes, v.ml_score, v.is_ml
FROM lake_texts t
JOIN paper_winners w USING (source, date, paper_id)
JOIN paper_sightings s USING (paper_key)
LEFT JOIN state.verdicts v USING (source, date, paper_key, text_key)  -- the gate's verdict on the current row
ORDER BY s.first_seen;
RESET disabled_compression_methods;
