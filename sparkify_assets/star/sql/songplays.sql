-- songplays: one row per NextSong event of :start_day .. :end_day, never dropped or duplicated by the
-- song match.
--
-- songplay_id = days since 1970-01-01 of the partition * 10^9 + the play's rank in its day, ordered by
-- every column of the event: the same input always gives every play the same id.
--
-- Song match (SPEC.md): title and artist name equal after trimming and ignoring case, duration within
-- 2.0 s of the event's length; of several, the closest duration, then the smallest song_id.
DELETE FROM songplays
WHERE start_time >= :start_day AND start_time < :after_end_day;

INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent)
WITH plays AS (
    SELECT
        CAST(partition_day - DATE '1970-01-01' AS BIGINT) * 1000000000
            + ROW_NUMBER() OVER (
                PARTITION BY partition_day
                ORDER BY
                    ts,
                    session_id NULLS LAST,
                    item_in_session NULLS LAST,
                    user_id NULLS LAST,
                    song NULLS LAST,
                    artist NULLS LAST,
                    length NULLS LAST,
                    level NULLS LAST,
                    location NULLS LAST,
                    user_agent NULLS LAST
            ) AS songplay_id,
        start_time,
        user_id,
        level,
        LOWER(song) AS song_key,
        LOWER(artist) AS artist_key,
        length,
        session_id,
        location,
        user_agent
    FROM stg_events
    WHERE page = 'NextSong'
      AND partition_day BETWEEN :start_day AND :end_day
), song_candidates AS (
    SELECT
        plays.songplay_id,
        songs.song_id,
        songs.artist_id,
        ROW_NUMBER() OVER (
            PARTITION BY plays.songplay_id
            ORDER BY ABS(songs.duration - plays.length), songs.song_id
        ) AS closeness
    FROM plays
    INNER JOIN stg_songs AS songs
        ON LOWER(songs.title) = plays.song_key
       AND LOWER(songs.artist_name) = plays.artist_key
       AND ABS(songs.duration - plays.length) <= 2.0
)
SELECT
    plays.songplay_id,
    plays.start_time,
    plays.user_id,
    plays.level,
    matches.song_id,
    matches.artist_id,
    plays.session_id,
    plays.location,
    plays.user_agent
FROM plays
LEFT JOIN song_candidates AS matches
    ON matches.songplay_id = plays.songplay_id
   AND matches.closeness = 1;
