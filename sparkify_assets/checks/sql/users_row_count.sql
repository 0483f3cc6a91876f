-- users rows = distinct user ids in all staged events.
-- Returns (violations = the difference, detail).
WITH expected AS (
    SELECT COUNT(DISTINCT user_id) AS n FROM stg_events WHERE user_id IS NOT NULL
), actual AS (
    SELECT COUNT(*) AS n FROM users
)
SELECT
    ABS(actual.n - expected.n) AS violations,
    CAST(actual.n AS VARCHAR) || ' users, ' || CAST(expected.n AS VARCHAR) || ' distinct user ids staged' AS detail
FROM expected CROSS JOIN actual;
