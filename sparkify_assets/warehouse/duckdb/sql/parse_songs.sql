-- Parse the song records of one batch of files (registered as `raw_records`: source_key, line_number,
-- raw_text, scan_error) once, on the way into staging_songs.
--
-- The record rules (SPEC.md, "Bad records": song_id is required and a string; an optional field of the wrong
-- type rejects the record, as COPY does: json_values.sql) live in the table macro classified_songs: every
-- record with its fields parsed and the reason it is rejected, or NULL. This file inserts the records
-- without a reason; reject_songs.sql uses the same macro for the others. A record that is not valid JSON
-- parses to NULL (TRY) and is rejected as 'not valid JSON'. A text field is no longer than its column's width
-- in bytes (json_values.sql, text_too_long; the widths, :<column>_width, are bound from create_tables.sql
-- by the engine: `layout.column_widths`).
CREATE OR REPLACE TEMP MACRO classified_songs() AS TABLE
WITH parsed AS (
    SELECT
        source_key, line_number, raw_text, scan_error,
        TRY(json_transform(raw_text, '{
            "num_songs": "JSON", "artist_id": "VARCHAR", "artist_latitude": "JSON",
            "artist_longitude": "JSON", "artist_location": "VARCHAR", "artist_name": "VARCHAR",
            "song_id": "JSON", "title": "VARCHAR", "duration": "JSON", "year": "JSON"}')) AS r
    FROM raw_records
), typed AS (
    SELECT
        *,
        json_type(r.song_id) AS song_id_type,
        json_int32(r.num_songs) AS num_songs,
        json_double(r.artist_latitude) AS artist_latitude,
        json_double(r.artist_longitude) AS artist_longitude,
        json_double(r.duration) AS duration,
        json_int32(r.year) AS year
    FROM parsed
)
SELECT
    typed.*,
    CASE
        WHEN scan_error IS NOT NULL THEN scan_error
        WHEN r IS NULL THEN 'not valid JSON'
        WHEN song_id_type IS NULL OR song_id_type = 'NULL' THEN 'missing required field song_id'
        WHEN song_id_type <> 'VARCHAR' THEN 'song_id must be a string, got ' || CAST(r.song_id AS VARCHAR)
        WHEN TRIM(r.song_id ->> '$') = '' THEN 'missing required field song_id (empty)'
        ELSE COALESCE(
            json_wrong_type('num_songs', r.num_songs, num_songs, 'an integer'),
            json_wrong_type('artist_latitude', r.artist_latitude, artist_latitude, 'a finite number'),
            json_wrong_type('artist_longitude', r.artist_longitude, artist_longitude, 'a finite number'),
            json_wrong_type('duration', r.duration, duration, 'a finite number'),
            json_wrong_type('year', r.year, year, 'an integer'),
            text_too_long('artist_id', r.artist_id, 'staging_songs.artist_id', :artist_id_width),
            text_too_long('artist_location', r.artist_location, 'staging_songs.artist_location', :artist_location_width),
            text_too_long('artist_name', r.artist_name, 'staging_songs.artist_name', :artist_name_width),
            text_too_long('song_id', r.song_id ->> '$', 'staging_songs.song_id', :song_id_width),
            text_too_long('title', r.title, 'staging_songs.title', :title_width)
        )
    END AS reason
FROM typed;

INSERT INTO staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id,
    title, duration, year, source_key
)
SELECT
    num_songs, r.artist_id, artist_latitude, artist_longitude, r.artist_location, r.artist_name,
    r.song_id ->> '$', r.title, duration, year, source_key
FROM classified_songs()
WHERE reason IS NULL;
