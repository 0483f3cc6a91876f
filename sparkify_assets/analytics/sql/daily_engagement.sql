-- daily_engagement (daily engagement): one row per day with plays in :start_day .. :end_day.
--
-- Plays per user count the plays of signed-in users (user_id set) over the users active that day.
-- A session is a (user_id, session_id) with plays that day; a session that runs past midnight counts on
-- each day for its plays of that day. Its length is the time from its first to its last play of the
-- day in whole seconds (each start_time truncated to the second; a one-play session lasts 0 s), taken
-- from EXTRACT of hour, minute and second so that DuckDB and Redshift give the same figures.
CREATE TABLE IF NOT EXISTS daily_engagement (
    partition_day           DATE NOT NULL,
    plays                   BIGINT NOT NULL,
    active_users            INTEGER NOT NULL,
    plays_per_user          DOUBLE PRECISION NOT NULL,
    max_plays_by_one_user   INTEGER NOT NULL,
    sessions                INTEGER NOT NULL,
    plays_per_session       DOUBLE PRECISION NOT NULL,
    avg_session_minutes     DOUBLE PRECISION NOT NULL,
    longest_session_minutes DOUBLE PRECISION NOT NULL
);

DELETE FROM daily_engagement
WHERE partition_day BETWEEN :start_day AND :end_day;

INSERT INTO daily_engagement (
    partition_day, plays, active_users, plays_per_user, max_plays_by_one_user, sessions, plays_per_session,
    avg_session_minutes, longest_session_minutes
)
WITH plays AS (
    SELECT
        CAST(start_time AS DATE) AS play_day,
        user_id,
        session_id,
        CAST(EXTRACT(hour FROM start_time) AS INTEGER) * 3600
            + CAST(EXTRACT(minute FROM start_time) AS INTEGER) * 60
            + CAST(EXTRACT(second FROM start_time) AS INTEGER) AS second_of_day
    FROM songplays
    WHERE start_time >= :start_day AND start_time < :after_end_day
), day_sessions AS (
    SELECT
        play_day,
        user_id,
        session_id,
        COUNT(*) AS plays,
        MAX(second_of_day) - MIN(second_of_day) AS session_seconds
    FROM plays
    GROUP BY play_day, user_id, session_id
), user_plays AS (
    SELECT play_day, user_id, SUM(plays) AS plays
    FROM day_sessions
    WHERE user_id IS NOT NULL
    GROUP BY play_day, user_id
), user_days AS (
    SELECT
        play_day,
        COUNT(*) AS active_users,
        SUM(plays) AS user_plays,
        MAX(plays) AS max_plays_by_one_user
    FROM user_plays
    GROUP BY play_day
), session_days AS (
    SELECT
        play_day,
        SUM(plays) AS plays,
        COUNT(*) AS sessions,
        AVG(CAST(session_seconds AS DOUBLE PRECISION)) / 60 AS avg_session_minutes,
        CAST(MAX(session_seconds) AS DOUBLE PRECISION) / 60 AS longest_session_minutes
    FROM day_sessions
    GROUP BY play_day
)
SELECT
    s.play_day,
    s.plays,
    COALESCE(u.active_users, 0),
    CASE WHEN u.active_users > 0 THEN CAST(u.user_plays AS DOUBLE PRECISION) / u.active_users ELSE 0 END,
    COALESCE(u.max_plays_by_one_user, 0),
    s.sessions,
    CAST(s.plays AS DOUBLE PRECISION) / s.sessions,
    s.avg_session_minutes,
    s.longest_session_minutes
FROM session_days AS s
LEFT JOIN user_days AS u ON u.play_day = s.play_day;
