-- After stage_events.sql / stage_songs.sql: keep the bad records of this COPY source in staging_rejects
-- (the lines COPY skipped, then the records SQL rejected, whose line in the file COPY does not report),
-- and record how many records the source held: the rows COPY loaded plus the lines it skipped. The
-- row-count checks reconcile staging rows + rejects against that figure.
INSERT INTO staging_rejects (source_key, line_number, raw_text, reason, loaded_at)
SELECT :source_key, line_number, raw_text, reason, SYSDATE
FROM load_errors;

INSERT INTO staging_rejects (source_key, line_number, raw_text, reason, loaded_at)
SELECT :source_key, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(1024)), reason, SYSDATE
FROM :copy_table
WHERE reason IS NOT NULL;

INSERT INTO staging_files (source_key, partition_day, records, loaded_at)
SELECT
    :source_key,
    CAST(:partition_day AS DATE),
    (SELECT COUNT(*) FROM :copy_table) + (SELECT COUNT(*) FROM load_errors),
    SYSDATE;
