-- The users of the staged events of :start_day .. :end_day need their users row rebuilt (star/sql/users.sql).
-- Run by the staging load of those days twice in its transaction: before it removes the days' old rows
-- (:since_day NULL: a user who vanishes from a corrected file may have only older events left, so all of
-- the user's events are read), and after it loads the new ones (:since_day the window's first day: the
-- user has an event in the window, and an event staged before it is older, since staging keeps an event
-- only on the day its ts falls on).
INSERT INTO users_to_refresh (user_id, since_day)
SELECT DISTINCT user_id, CAST(:since_day AS DATE)
FROM stg_events
WHERE partition_day BETWEEN :start_day AND :end_day
  AND user_id IS NOT NULL;
