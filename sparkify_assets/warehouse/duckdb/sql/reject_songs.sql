-- The records of a batch that parse_songs.sql left out, into staging_rejects with their reason (the macro
-- classified_songs of parse_songs.sql, defined just before on the same connection). Run only for a batch
-- where parse_songs.sql inserted fewer rows than the batch holds. The reason needs song_id only, so only
-- that is parsed into a column.
INSERT INTO staging_rejects
SELECT source_key, line_number, raw_text, reason, :loaded_at
FROM classified_songs('{"song_id": "JSON"}')
WHERE reason IS NOT NULL;
