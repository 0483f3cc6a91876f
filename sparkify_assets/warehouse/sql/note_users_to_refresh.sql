-- The users of the staged events of :start_day .. :end_day need their users row rebuilt (star/sql/users.sql).
-- Run by the staging load of those days twice in its transaction: before it removes the days' old rows
-- (a user who vanishes from a corrected file) and after it loads the new ones (a user who appears).
INSERT INTO users_to_refresh (user_id)
SELECT DISTINCT user_id
FROM stg_events
WHERE partition_day BETWEEN :start_day AND :end_day
  AND user_id IS NOT NULL;
