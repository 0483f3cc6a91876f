-- users: upsert every user seen in :start_day .. :end_day. Each column is taken from the user's latest
-- event by ts across all loaded days (not just this window), so a re-run or an out-of-order backfill
-- never puts an older value back.
-- Only days from :start_day on are read: staging keeps an event only on the day its ts falls on
-- (parse_events.sql / stage_events.sql reject the others), so an event staged before the window is older
-- than any of the user's events in it. A daily run thus reads its own day, not the user's whole history;
-- a backfill of an older day reads the days after it, where a newer event may be.
DELETE FROM users
WHERE user_id IN (
    SELECT user_id
    FROM stg_events
    WHERE partition_day BETWEEN :start_day AND :end_day
      AND user_id IS NOT NULL
);

INSERT INTO users (user_id, first_name, last_name, gender, level)
WITH users_in_window AS (
    SELECT DISTINCT user_id
    FROM stg_events
    WHERE partition_day BETWEEN :start_day AND :end_day
      AND user_id IS NOT NULL
), user_events AS (
    SELECT
        e.user_id,
        e.first_name,
        e.last_name,
        e.gender,
        e.level,
        ROW_NUMBER() OVER (
            PARTITION BY e.user_id
            ORDER BY
                e.ts DESC,
                e.session_id DESC NULLS LAST,
                e.item_in_session DESC NULLS LAST,
                e.level DESC NULLS LAST,
                e.first_name DESC NULLS LAST,
                e.last_name DESC NULLS LAST,
                e.gender DESC NULLS LAST
        ) AS recency
    FROM stg_events AS e
    INNER JOIN users_in_window AS w ON w.user_id = e.user_id
    WHERE e.partition_day >= :start_day
)
SELECT user_id, first_name, last_name, gender, level
FROM user_events
WHERE recency = 1;
