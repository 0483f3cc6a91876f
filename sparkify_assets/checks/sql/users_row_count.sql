-- Per day of :start_day .. :end_day: the users seen that day (distinct user ids staged for the day) have
-- one users row each. users is upserted by the days that see a user, so a day answers for its own users.
-- Returns one row per day with users: (day, violations = rows minus user ids, in absolute value, detail).
WITH seen AS (
    SELECT DISTINCT partition_day AS day, user_id FROM stg_events
    WHERE partition_day BETWEEN :start_day AND :end_day AND user_id IS NOT NULL
), rows_per_user AS (
    SELECT user_id, COUNT(*) AS n FROM users
    WHERE user_id IN (SELECT user_id FROM seen)
    GROUP BY user_id
), per_day AS (
    SELECT seen.day, COUNT(*) AS expected, SUM(COALESCE(rows_per_user.n, 0)) AS actual
    FROM seen LEFT JOIN rows_per_user ON rows_per_user.user_id = seen.user_id
    GROUP BY seen.day
)
SELECT
    day,
    ABS(actual - expected) AS violations,
    CAST(actual AS VARCHAR) || ' users rows for ' || CAST(expected AS VARCHAR) || ' user ids seen' AS detail
FROM per_day
ORDER BY day;
