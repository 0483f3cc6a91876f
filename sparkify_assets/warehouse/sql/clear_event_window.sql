-- Before (re)loading the event files of :start_day .. :end_day: remove what an earlier load of those days
-- left, rejects included (SPEC.md: re-loading a partition replaces its rejects too).
DELETE FROM staging_rejects
WHERE source_key IN (
    SELECT source_key FROM staging_files WHERE partition_day BETWEEN :start_day AND :end_day
);

DELETE FROM staging_events WHERE partition_day BETWEEN :start_day AND :end_day;

DELETE FROM staging_files WHERE partition_day BETWEEN :start_day AND :end_day;
