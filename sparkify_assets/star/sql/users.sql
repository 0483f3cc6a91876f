-- users: every column is the value of the user's latest event by ts among the events staged now, and a
-- user with no staged event left is no longer a user (SPEC.md).
--
-- Which users to rebuild: those seen in :start_day .. :end_day, and every user whose staged events
-- changed since users was last built. Each staging load of event files notes the users of the days it
-- replaces, before and after, with the first day from which their events must be read
-- (warehouse/sql/note_users_to_refresh.sql), in the same transaction as the load; this step rebuilds them
-- and clears the note, in its own transaction. So a corrected day file, a reload of any day or an
-- out-of-order backfill is reflected by the next users step of ANY day. A user seen in the window is read
-- from the window's first day on (an event staged before it is older than the user's events in it): a
-- daily run reads the day and the days after it, not the users' whole history.
DELETE FROM users
WHERE user_id IN (
    SELECT user_id FROM users_to_refresh
    UNION
    SELECT user_id
    FROM stg_events
    WHERE partition_day BETWEEN :start_day AND :end_day
      AND user_id IS NOT NULL
);

INSERT INTO users (user_id, first_name, last_name, gender, level)
WITH noted AS (
    SELECT user_id, since_day FROM users_to_refresh
    UNION ALL
    SELECT DISTINCT user_id, :start_day
    FROM stg_events
    WHERE partition_day BETWEEN :start_day AND :end_day
      AND user_id IS NOT NULL
), affected_users AS (
    -- NULL (all of the user's events) wins over any day.
    SELECT user_id, MIN(COALESCE(since_day, DATE '0001-01-01')) AS since_day
    FROM noted
    GROUP BY user_id
), latest AS (
    -- Each user's latest ts: only the events at it can be the user's latest, so only they are ranked below
    -- (ranking every event of the window costs a sort of all of them; this, one aggregate).
    SELECT e.user_id, MAX(e.ts) AS ts
    FROM stg_events AS e
    INNER JOIN affected_users AS a ON a.user_id = e.user_id
    WHERE e.partition_day >= a.since_day
    GROUP BY e.user_id
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
    INNER JOIN affected_users AS a ON a.user_id = e.user_id
    INNER JOIN latest ON latest.user_id = e.user_id AND latest.ts = e.ts
    WHERE e.partition_day >= a.since_day
)
SELECT user_id, first_name, last_name, gender, level
FROM user_events
WHERE recency = 1;

DELETE FROM users_to_refresh;
