-- daily_user_activity (acquiring and retaining users): one row per day with plays in :start_day .. :end_day.
--
-- A user is active on a day when they have a play (a songplays row) that day. They are new on the day of
-- their first play in the warehouse and returning on every later day. Their level on a day is that of
-- their last play of the day. A conversion to paid is a paid play whose previous play by that user (on
-- any earlier day) was free; a downgrade is the reverse; a user counts once a day for each.
-- Days are UTC days of start_time. Earlier days are read, never written: a day depends on the plays
-- before it, so backfill in day order (a single-run backfill does the whole window at once).
CREATE TABLE IF NOT EXISTS daily_user_activity (
    partition_day       DATE NOT NULL,
    active_users        INTEGER NOT NULL,
    new_users           INTEGER NOT NULL,
    returning_users     INTEGER NOT NULL,
    paid_users          INTEGER NOT NULL,
    free_users          INTEGER NOT NULL,
    conversions_to_paid INTEGER NOT NULL,
    downgrades_to_free  INTEGER NOT NULL
);

DELETE FROM daily_user_activity
WHERE partition_day BETWEEN :start_day AND :end_day;

INSERT INTO daily_user_activity (
    partition_day, active_users, new_users, returning_users, paid_users, free_users,
    conversions_to_paid, downgrades_to_free
)
WITH plays AS (
    SELECT
        user_id,
        CAST(start_time AS DATE) AS play_day,
        level,
        LAG(level) OVER (PARTITION BY user_id ORDER BY start_time, songplay_id) AS previous_level,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, CAST(start_time AS DATE)
            ORDER BY start_time DESC, songplay_id DESC
        ) AS last_in_day
    FROM songplays
    WHERE user_id IS NOT NULL
      AND start_time < :after_end_day
), first_days AS (
    SELECT user_id, MIN(play_day) AS first_day
    FROM plays
    GROUP BY user_id
), user_days AS (
    SELECT
        play_day,
        user_id,
        MAX(CASE WHEN last_in_day = 1 THEN level END) AS day_level,
        MAX(CASE WHEN previous_level = 'free' AND level = 'paid' THEN 1 ELSE 0 END) AS converted,
        MAX(CASE WHEN previous_level = 'paid' AND level = 'free' THEN 1 ELSE 0 END) AS downgraded
    FROM plays
    WHERE play_day BETWEEN :start_day AND :end_day
    GROUP BY play_day, user_id
)
SELECT
    d.play_day,
    COUNT(*),
    SUM(CASE WHEN f.first_day = d.play_day THEN 1 ELSE 0 END),
    SUM(CASE WHEN f.first_day < d.play_day THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.day_level = 'paid' THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.day_level = 'free' THEN 1 ELSE 0 END),
    SUM(d.converted),
    SUM(d.downgraded)
FROM user_days AS d
INNER JOIN first_days AS f ON f.user_id = d.user_id
GROUP BY d.play_day;
