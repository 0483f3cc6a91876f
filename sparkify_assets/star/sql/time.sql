-- time: one row per distinct start_time of the plays of :start_day .. :end_day.
-- weekday is 0 = Sunday .. 6 = Saturday (EXTRACT(dow)); week is the ISO week.
DELETE FROM time
WHERE start_time >= :start_day AND start_time < :after_end_day;

INSERT INTO time (start_time, hour, day, week, month, year, weekday)
WITH play_times AS (
    SELECT DISTINCT start_time
    FROM stg_events
    WHERE page = 'NextSong'
      AND partition_day BETWEEN :start_day AND :end_day
)
SELECT
    start_time,
    CAST(EXTRACT(hour FROM start_time) AS INTEGER),
    CAST(EXTRACT(day FROM start_time) AS INTEGER),
    CAST(EXTRACT(week FROM start_time) AS INTEGER),
    CAST(EXTRACT(month FROM start_time) AS INTEGER),
    CAST(EXTRACT(year FROM start_time) AS INTEGER),
    CAST(EXTRACT(dow FROM start_time) AS INTEGER)
FROM play_times;
