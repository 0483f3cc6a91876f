-- Engine-neutral views over the cleaned staging views (stg_events, stg_songs) and the song catalogue: the
-- one home of SPEC.md's choice of a song record and of the song match. Created after every engine's own
-- tables and stg_* views.

-- One record per song_id (SPEC.md: songs has one row per song_id): should the same song_id appear in
-- several records, the first by source key wins, then the first by its other columns (on Redshift every
-- song has the same source key: the prefix COPY read).
CREATE OR REPLACE VIEW stg_song_choice AS
WITH song_records AS (
    SELECT
        song_id,
        title,
        artist_id,
        artist_name,
        year,
        duration,
        ROW_NUMBER() OVER (
            PARTITION BY song_id
            ORDER BY
                source_key,
                title NULLS LAST,
                artist_id NULLS LAST,
                artist_name NULLS LAST,
                year NULLS LAST,
                duration NULLS LAST
        ) AS preference
    FROM stg_songs
)
SELECT song_id, title, artist_id, artist_name, year, duration
FROM song_records
WHERE preference = 1;

-- Every staged NextSong event as a play: its stable songplay_id and its song match.
--
-- songplay_id = days since 1970-01-01 of the partition * 10^9 + the play's rank in its day, ordered by
-- every column of the event: the same input always gives every play the same id. The days come from each
-- engine's f_days_since_epoch (warehouse/<engine>/sql/create_functions.sql): Redshift documents DATEDIFF,
-- not DATE - DATE, and DuckDB does not read DATEDIFF's bare datepart.
--
-- Song match (SPEC.md): title and artist name equal after trimming and ignoring case, duration within
-- 2.0 s of the event's length; of several, the closest duration, then the smallest song_id. Matched
-- against song_catalogue, the match keys of the songs the songs dimension holds (written with it by
-- star/sql/song_catalogue.sql), so a play always names a row of songs and that row's own artist_id.
-- Each play is one row of the left join to its candidates, the closest first, so the view reads staging
-- once: a filter on partition_day (the partition key of both windows) reaches the staging scan, and a
-- day's plays are computed from that day's events only.
CREATE OR REPLACE VIEW stg_plays AS
WITH plays AS (
    SELECT
        partition_day,
        f_days_since_epoch(partition_day) * 1000000000
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
), candidates AS (
    SELECT
        plays.*,
        catalogue.song_id,
        catalogue.artist_id,
        ROW_NUMBER() OVER (
            PARTITION BY plays.partition_day, plays.songplay_id
            ORDER BY ABS(catalogue.duration - plays.length) NULLS LAST, catalogue.song_id NULLS LAST
        ) AS closeness
    FROM plays
    LEFT JOIN song_catalogue AS catalogue
        ON catalogue.title_key = plays.song_key
       AND catalogue.artist_name_key = plays.artist_key
       AND ABS(catalogue.duration - plays.length) <= 2.0
)
SELECT
    partition_day,
    songplay_id,
    start_time,
    user_id,
    level,
    song_id,
    artist_id,
    session_id,
    location,
    user_agent
FROM candidates
WHERE closeness = 1;
