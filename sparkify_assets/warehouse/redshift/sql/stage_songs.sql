-- Decide for each copied song whether it loads (SPEC.md, "Bad records", with the reasons DuckDB gives):
-- song_id is required. The rows of the one COPY over song_data/ do not say which file they came from:
-- their source_key is the prefix that was copied.
UPDATE staging_songs_copy
SET reason = CASE
    WHEN song_id IS NULL THEN 'missing required field song_id'
    WHEN TRIM(song_id) = '' THEN 'missing required field song_id (empty)'
    -- Never NaN or an infinity (see stage_events.sql).
    WHEN NOT artist_latitude BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
        THEN 'artist_latitude must be a finite number, got ' || CAST(artist_latitude AS VARCHAR)
    WHEN NOT artist_longitude BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
        THEN 'artist_longitude must be a finite number, got ' || CAST(artist_longitude AS VARCHAR)
    WHEN NOT duration BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
        THEN 'duration must be a finite number, got ' || CAST(duration AS VARCHAR)
END;

INSERT INTO staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id,
    title, duration, year, source_key
)
SELECT
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id,
    title, duration, year, :source_key
FROM staging_songs_copy
WHERE reason IS NULL;
