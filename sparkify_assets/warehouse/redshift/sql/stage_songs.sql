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
    -- A text value longer than its staging column (its width, :<column>_width, read from create_tables.sql by
    -- the engine): Redshift counts a VARCHAR's width in bytes and refuses a longer value
    -- (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html), so the copy table takes any
    -- text (copy_*.sql) and the record is rejected here, with the reason DuckDB gives (see stage_events.sql).
    WHEN OCTET_LENGTH(artist_id) > :artist_id_width
        THEN 'artist_id is ' || CAST(OCTET_LENGTH(artist_id) AS VARCHAR)
            || ' bytes long, longer than staging_songs.artist_id VARCHAR(' || CAST(:artist_id_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(artist_location) > :artist_location_width
        THEN 'artist_location is ' || CAST(OCTET_LENGTH(artist_location) AS VARCHAR)
            || ' bytes long, longer than staging_songs.artist_location VARCHAR(' || CAST(:artist_location_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(artist_name) > :artist_name_width
        THEN 'artist_name is ' || CAST(OCTET_LENGTH(artist_name) AS VARCHAR)
            || ' bytes long, longer than staging_songs.artist_name VARCHAR(' || CAST(:artist_name_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(song_id) > :song_id_width
        THEN 'song_id is ' || CAST(OCTET_LENGTH(song_id) AS VARCHAR)
            || ' bytes long, longer than staging_songs.song_id VARCHAR(' || CAST(:song_id_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(title) > :title_width
        THEN 'title is ' || CAST(OCTET_LENGTH(title) AS VARCHAR)
            || ' bytes long, longer than staging_songs.title VARCHAR(' || CAST(:title_width AS VARCHAR) || ')'
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
