-- Uniqueness: values of :key that are NULL or appear on more than one row of :table.
-- Returns (violations, detail).
WITH key_counts AS (
    SELECT :key AS key_value, COUNT(*) AS copies
    FROM :table
    GROUP BY :key
    HAVING COUNT(*) > 1 OR :key IS NULL
)
SELECT
    COUNT(*) AS violations,
    'e.g. ' || MIN(COALESCE(CAST(key_value AS VARCHAR), 'NULL')) AS detail
FROM key_counts;
