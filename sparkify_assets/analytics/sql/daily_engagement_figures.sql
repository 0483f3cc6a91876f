-- The figures of each day of :start_day .. :end_day, for the materialization's metadata.
SELECT
    partition_day, plays, active_users, plays_per_user, max_plays_by_one_user, sessions, plays_per_session,
    avg_session_minutes, longest_session_minutes
FROM daily_engagement
WHERE partition_day BETWEEN :start_day AND :end_day
ORDER BY partition_day;
