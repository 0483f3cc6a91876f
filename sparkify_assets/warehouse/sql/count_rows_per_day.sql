-- Rows of a table per day of :start_day .. :end_day, by :column (a timestamp or date); a day without
-- rows has no row here.
SELECT CAST(:column AS DATE) AS day, COUNT(*) AS row_count
FROM :table
WHERE :column >= :start_day AND :column < :after_end_day
GROUP BY CAST(:column AS DATE);
