-- The figures of each day of :start_day .. :end_day, for the materialization's metadata.
SELECT
    partition_day, active_users, new_users, returning_users, paid_users, free_users,
    conversions_to_paid, downgrades_to_free
FROM daily_user_activity
WHERE partition_day BETWEEN :start_day AND :end_day
ORDER BY partition_day;
