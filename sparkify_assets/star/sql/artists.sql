-- artists: one row per artist_id found in the song files.
-- An artist_id can come with different names or locations on different songs. The choice, which is
-- deterministic: the song record that knows most about the artist (name, location, latitude, longitude
-- present), and of those the smallest song_id, then the first source key, then the first values.
DELETE FROM artists;

INSERT INTO artists (artist_id, name, location, latitude, longitude)
WITH artist_records AS (
    SELECT
        artist_id,
        artist_name,
        artist_location,
        artist_latitude,
        artist_longitude,
        ROW_NUMBER() OVER (
            PARTITION BY artist_id
            ORDER BY
                (CASE WHEN artist_name IS NULL THEN 1 ELSE 0 END
                 + CASE WHEN artist_location IS NULL THEN 1 ELSE 0 END
                 + CASE WHEN artist_latitude IS NULL THEN 1 ELSE 0 END
                 + CASE WHEN artist_longitude IS NULL THEN 1 ELSE 0 END),
                song_id,
                source_key,
                artist_name NULLS LAST,
                artist_location NULLS LAST,
                artist_latitude NULLS LAST,
                artist_longitude NULLS LAST
        ) AS preference
    FROM stg_songs
    WHERE artist_id IS NOT NULL
)
SELECT artist_id, artist_name, artist_location, artist_latitude, artist_longitude
FROM artist_records
WHERE preference = 1;
