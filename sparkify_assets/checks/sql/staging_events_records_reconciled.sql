-- Every event file of :start_day .. :end_day: staging rows + rejects = records in the file.
-- Returns one row per day with a file that does not add up: (day, violations = such files, detail).
WITH files AS (
    SELECT source_key, partition_day, records
    FROM staging_files
    WHERE partition_day BETWEEN :start_day AND :end_day
), staged AS (
    SELECT source_key, partition_day, COUNT(*) AS rows_loaded
    FROM staging_events
    WHERE partition_day BETWEEN :start_day AND :end_day
    GROUP BY source_key, partition_day
), rejected AS (
    SELECT source_key, COUNT(*) AS rows_rejected
    FROM staging_rejects
    WHERE source_key IN (SELECT source_key FROM files)
    GROUP BY source_key
), reconciled AS (
    SELECT
        COALESCE(files.partition_day, staged.partition_day) AS day,
        COALESCE(files.source_key, staged.source_key) AS source_key,
        COALESCE(files.records, 0) AS records,
        COALESCE(staged.rows_loaded, 0) + COALESCE(rejected.rows_rejected, 0) AS accounted
    FROM files
    FULL OUTER JOIN staged ON staged.source_key = files.source_key
    LEFT JOIN rejected ON rejected.source_key = COALESCE(files.source_key, staged.source_key)
)
SELECT
    day,
    COUNT(*) AS violations,
    MIN(source_key || ': ' || CAST(records AS VARCHAR) || ' records, ' || CAST(accounted AS VARCHAR)
        || ' loaded or rejected') AS detail
FROM reconciled
WHERE records <> accounted
GROUP BY day;
