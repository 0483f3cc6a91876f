-- Orphan keys among the songplays of :start_day .. :end_day, per day: :column set but no row of :parent.
-- Returns one row per day with orphans: (day, violations, detail).
SELECT
    CAST(plays.start_time AS DATE) AS day,
    COUNT(*) AS violations,
    'e.g. ' || MIN(CAST(plays.:column AS VARCHAR)) AS detail
FROM songplays AS plays
LEFT JOIN :parent AS parent ON parent.:key = plays.:column
WHERE plays.start_time >= :start_day
  AND plays.start_time < :after_end_day
  AND plays.:column IS NOT NULL
  AND parent.:key IS NULL
GROUP BY CAST(plays.start_time AS DATE);
