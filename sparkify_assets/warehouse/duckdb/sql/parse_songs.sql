-- Parse the song records of one batch of files (registered as `raw_records`: source_key, line_number,
-- raw_text, scan_error) once, on the way into staging_songs.
--
-- The record rule (SPEC.md, "Bad records": song_id is required and a string) lives in the table macro
-- classified_songs: every record with its fields parsed to `shape` and the reason it is rejected, or NULL.
-- This file inserts the records without a reason; reject_songs.sql uses the same macro for the others. A
-- record that is not valid JSON parses to NULL (TRY) and is rejected as 'not valid JSON'.
CREATE OR REPLACE TEMP MACRO classified_songs(shape) AS TABLE
WITH parsed AS (
    SELECT source_key, line_number, raw_text, scan_error, TRY(json_transform(raw_text, shape)) AS r
    FROM raw_records
), typed AS (
    SELECT *, json_type(r.song_id) AS song_id_type
    FROM parsed
)
SELECT
    *,
    CASE
        WHEN scan_error IS NOT NULL THEN scan_error
        WHEN r IS NULL THEN 'not valid JSON'
        WHEN song_id_type IS NULL OR song_id_type = 'NULL' THEN 'missing required field song_id'
        WHEN song_id_type <> 'VARCHAR' THEN 'song_id must be a string, got ' || CAST(r.song_id AS VARCHAR)
        WHEN TRIM(r.song_id ->> '$') = '' THEN 'missing required field song_id (empty)'
    END AS reason
FROM typed;

INSERT INTO staging_songs
SELECT
    r.num_songs, r.artist_id, r.artist_latitude, r.artist_longitude, r.artist_location, r.artist_name,
    r.song_id ->> '$', r.title, r.duration, r.year, source_key
FROM classified_songs('{
    "num_songs": "INTEGER", "artist_id": "VARCHAR", "artist_latitude": "DOUBLE",
    "artist_longitude": "DOUBLE", "artist_location": "VARCHAR", "artist_name": "VARCHAR",
    "song_id": "JSON", "title": "VARCHAR", "duration": "DOUBLE", "year": "INTEGER"}')
WHERE reason IS NULL;
