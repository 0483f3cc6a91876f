-- songs: one row per song_id. Should the same song_id appear in several records, the first by source key wins,
-- then the first by its other columns (on Redshift every song has the same source key: the prefix COPY read).
DELETE FROM songs;

INSERT INTO songs (song_id, title, artist_id, year, duration)
WITH song_records AS (
    SELECT
        song_id,
        title,
        artist_id,
        year,
        duration,
        ROW_NUMBER() OVER (
            PARTITION BY song_id
            ORDER BY
                source_key,
                title NULLS LAST,
                artist_id NULLS LAST,
                year NULLS LAST,
                duration NULLS LAST
        ) AS preference
    FROM stg_songs
)
SELECT song_id, title, artist_id, year, duration
FROM song_records
WHERE preference = 1;
