-- Uniqueness for the rows of :table on the days :start_day .. :end_day (by :column), per day: values of
-- :key among a day's rows that are NULL or that appear on more than one row of the whole table. Only the
-- window's keys are counted, so a daily check costs a day, not the table's history; a duplicate between
-- two other days is found by the check of their own partitions.
-- A key appears on more than one row when it repeats within the window, or when a row outside the window
-- (another day, or none) has it too: the window's rows are counted once, by themselves, and the rest of the
-- table is only searched for the window's keys (a build of the whole table has no rest to search).
-- Returns one row per day with such keys: (day, violations, detail).
WITH window_rows AS (
    SELECT CAST(:column AS DATE) AS day, :key AS key_value
    FROM :table
    WHERE :column >= :start_day AND :column < :after_end_day
), copies AS (
    SELECT key_value
    FROM window_rows
    GROUP BY key_value
    HAVING COUNT(*) > 1
    UNION
    SELECT :key
    FROM :table
    WHERE :key IN (SELECT key_value FROM window_rows)
      AND NOT (:column >= :start_day AND :column < :after_end_day)
    UNION
    SELECT :key
    FROM :table
    WHERE :key IN (SELECT key_value FROM window_rows)
      AND :column IS NULL
), bad AS (
    SELECT DISTINCT window_rows.day, window_rows.key_value
    FROM window_rows
    LEFT JOIN copies ON copies.key_value = window_rows.key_value
    WHERE window_rows.key_value IS NULL OR copies.key_value IS NOT NULL
)
SELECT day, COUNT(*) AS violations, 'e.g. ' || MIN(COALESCE(CAST(key_value AS VARCHAR), 'NULL')) AS detail
FROM bad
GROUP BY day;
