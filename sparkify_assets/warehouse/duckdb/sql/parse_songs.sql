-- Parse the song records of one batch of files (registered as `raw_records`) once, and decide for each
-- record whether it loads or is rejected (SPEC.md, "Bad records": song_id is required and a string).
CREATE OR REPLACE TEMP TABLE parsed_records AS
WITH parsed AS (
    SELECT
        source_key,
        line_number,
        raw_text,
        scan_error,
        CASE WHEN scan_error IS NULL AND json_valid(raw_text) THEN json_transform(raw_text, '{
            "num_songs": "INTEGER", "artist_id": "VARCHAR", "artist_latitude": "DOUBLE",
            "artist_longitude": "DOUBLE", "artist_location": "VARCHAR", "artist_name": "VARCHAR",
            "song_id": "JSON", "title": "VARCHAR", "duration": "DOUBLE", "year": "INTEGER"}') END AS r
    FROM raw_records
)
SELECT
    *,
    CASE
        WHEN scan_error IS NOT NULL THEN scan_error
        WHEN r IS NULL THEN 'not valid JSON'
        WHEN json_type(r.song_id) IS NULL OR json_type(r.song_id) = 'NULL' THEN 'missing required field song_id'
        WHEN json_type(r.song_id) <> 'VARCHAR'
            THEN 'song_id must be a string, got ' || CAST(r.song_id AS VARCHAR)
        WHEN TRIM(r.song_id ->> '$') = '' THEN 'missing required field song_id (empty)'
    END AS reason
FROM parsed;

INSERT INTO staging_songs
SELECT
    r.num_songs, r.artist_id, r.artist_latitude, r.artist_longitude, r.artist_location, r.artist_name,
    r.song_id ->> '$', r.title, r.duration, r.year, source_key
FROM parsed_records
WHERE reason IS NULL;

INSERT INTO staging_rejects
SELECT source_key, line_number, raw_text, reason, :loaded_at
FROM parsed_records
WHERE reason IS NOT NULL;
