-- Uniqueness for the rows of :table on the days :start_day .. :end_day (by :column): values of :key among
-- them that are NULL or that appear on more than one row of the whole table. Only the window's keys are
-- counted, so a daily check costs a day, not the table's history; a duplicate between two other days is
-- found by the check of their own partitions.
-- Returns (violations, detail).
WITH window_keys AS (
    SELECT :key AS key_value
    FROM :table
    WHERE :column >= :start_day AND :column < :after_end_day
), same_keys_elsewhere AS (
    SELECT :key AS key_value
    FROM :table
    WHERE NOT (:column >= :start_day AND :column < :after_end_day)
      AND :key IN (SELECT key_value FROM window_keys)
), key_counts AS (
    SELECT key_value, COUNT(*) AS copies
    FROM (SELECT key_value FROM window_keys UNION ALL SELECT key_value FROM same_keys_elsewhere) AS keys
    GROUP BY key_value
    HAVING COUNT(*) > 1 OR key_value IS NULL
)
SELECT
    COUNT(*) AS violations,
    'e.g. ' || MIN(COALESCE(CAST(key_value AS VARCHAR), 'NULL')) AS detail
FROM key_counts;
