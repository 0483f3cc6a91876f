-- Rows of a table whose :column (a timestamp or date) falls on the days :start_day .. :end_day.
SELECT COUNT(*) FROM :table WHERE :column >= :start_day AND :column < :after_end_day;
