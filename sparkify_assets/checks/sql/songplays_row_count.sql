-- Per day of :start_day .. :end_day: songplays of the day = NextSong events staged for the day.
-- Returns one row per day with either: (day, violations = the difference, detail).
WITH expected AS (
    SELECT partition_day AS day, COUNT(*) AS n FROM stg_events
    WHERE page = 'NextSong' AND partition_day BETWEEN :start_day AND :end_day
    GROUP BY partition_day
), actual AS (
    SELECT CAST(start_time AS DATE) AS day, COUNT(*) AS n FROM songplays
    WHERE start_time >= :start_day AND start_time < :after_end_day
    GROUP BY CAST(start_time AS DATE)
)
SELECT
    COALESCE(actual.day, expected.day) AS day,
    ABS(COALESCE(actual.n, 0) - COALESCE(expected.n, 0)) AS violations,
    CAST(COALESCE(actual.n, 0) AS VARCHAR) || ' songplays, ' || CAST(COALESCE(expected.n, 0) AS VARCHAR)
        || ' NextSong events' AS detail
FROM expected FULL OUTER JOIN actual ON actual.day = expected.day
ORDER BY day;
