-- Partitions besides the touched ones that hold rows of papers with rows in a touched partition: when a
-- touched partition loses such a paper's current row, the paper's text is read from one of these.
SELECT DISTINCT r.source, r.date
FROM state.paper_rows r
SEMI JOIN (SELECT paper_key FROM state.paper_rows SEMI JOIN touched USING (source, date)) USING (paper_key)
ANTI JOIN touched USING (source, date);
