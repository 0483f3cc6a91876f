-- Uniqueness of users.user_id, per day of :start_day .. :end_day: user ids seen that day (staged events)
-- that have more than one users row. (users.user_id is NOT NULL in the table's DDL.)
-- Returns one row per day with such users: (day, violations, detail).
WITH seen AS (
    SELECT DISTINCT partition_day AS day, user_id FROM stg_events
    WHERE partition_day BETWEEN :start_day AND :end_day AND user_id IS NOT NULL
), copies AS (
    SELECT user_id, COUNT(*) AS n FROM users
    WHERE user_id IN (SELECT user_id FROM seen)
    GROUP BY user_id
    HAVING COUNT(*) > 1
)
SELECT seen.day, COUNT(*) AS violations, 'e.g. ' || CAST(MIN(seen.user_id) AS VARCHAR) AS detail
FROM seen JOIN copies ON copies.user_id = seen.user_id
GROUP BY seen.day;
