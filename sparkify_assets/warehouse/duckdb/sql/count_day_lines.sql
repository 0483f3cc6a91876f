-- How many one-line records DuckDB's reader sees in each day file it read (read_day_lines.sql), to be compared
-- with the count of the Python scan (day_lines.py).
SELECT path, COUNT(*) AS lines
FROM day_lines
GROUP BY path;
