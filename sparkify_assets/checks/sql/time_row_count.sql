-- time rows of :start_day .. :end_day = distinct play start times staged for those days.
-- Returns (violations = the difference, detail).
WITH expected AS (
    SELECT COUNT(DISTINCT start_time) AS n FROM stg_events
    WHERE page = 'NextSong' AND partition_day BETWEEN :start_day AND :end_day
), actual AS (
    SELECT COUNT(*) AS n FROM time
    WHERE start_time >= :start_day AND start_time < :after_end_day
)
SELECT
    ABS(actual.n - expected.n) AS violations,
    CAST(actual.n AS VARCHAR) || ' time rows, ' || CAST(expected.n AS VARCHAR) || ' distinct start times' AS detail
FROM expected CROSS JOIN actual;
