-- The records of a batch that parse_events.sql left out, into staging_rejects with their reason (the
-- macro classified_events of parse_events.sql, defined just before on the same connection). Run only for a
-- batch where parse_events.sql inserted fewer rows than the batch holds.
INSERT INTO staging_rejects (source_key, line_number, raw_text, reason, loaded_at)
SELECT source_key, line_number, raw_text, reason, :loaded_at
FROM classified_events()
WHERE reason IS NOT NULL;
