-- quarantine: the rejected records of each partition with their reasons (what the UI's Quarantine view
-- pages through); recomputed for the touched partitions.
CREATE TEMP TABLE quarantine_after AS
SELECT source, date, record_index, paper_id, title, abstract, abs_url, parse_error, reason_codes, reasons
FROM lake_quarantine;

DELETE FROM quarantine USING touched t WHERE quarantine.source = t.source AND quarantine.date = t.date;
INSERT INTO quarantine SELECT * FROM quarantine_after;
