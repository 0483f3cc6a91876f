-- songplays: one row per NextSong event of :start_day .. :end_day, never dropped or duplicated by the
-- song match. The ids and the match are those of the view stg_plays (warehouse/sql/create_star_views.sql).
DELETE FROM songplays
WHERE start_time >= :start_day AND start_time < :after_end_day;

INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent)
SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent
FROM stg_plays
WHERE partition_day BETWEEN :start_day AND :end_day;
