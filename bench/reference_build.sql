-- The reference build's staging: every source file read by DuckDB's own readers, in two statements.
-- No orchestration, no Python per file or per record. bench/reference.py runs it between the project's
-- DDL (warehouse/duckdb/sql) and the project's star SQL (star/sql), over the whole month at once.
--
-- Events: read_json over the glob of day files (format 'unstructured' copes with blank lines and
-- pretty-printed objects). Songs: read_text over the glob of song files and one JSON parse in SQL, which
-- is the fastest way plain DuckDB reads many tiny files: read_json over the same glob takes about ten
-- times as long. The ORDER BY is not cosmetic: without it each file's one row reaches the table as a
-- chunk of its own, and the insert takes 7 times as long and 15 times the memory (DuckDB 2.0).
-- Not a second implementation of SPEC.md's bad-record rules: the benchmark data has no bad records.

INSERT INTO staging_events (
    artist, auth, first_name, gender, item_in_session, last_name, length, level, location, method,
    page, registration, session_id, song, status, ts, user_agent, user_id, source_key, partition_day
)
SELECT
    artist, auth, firstName, gender, itemInSession, lastName, length, level, location, method, page,
    registration, sessionId, song, status, ts, userAgent, NULLIF(TRIM(userId), ''),
    substr(filename, :root_length + 2) AS source_key,
    CAST(substr(filename, -22, 10) AS DATE) AS partition_day
FROM read_json(:events_glob, format = 'unstructured', filename = true, columns = {
    artist: 'VARCHAR', auth: 'VARCHAR', firstName: 'VARCHAR', gender: 'VARCHAR', itemInSession: 'INTEGER',
    lastName: 'VARCHAR', length: 'DOUBLE', level: 'VARCHAR', location: 'VARCHAR', method: 'VARCHAR',
    page: 'VARCHAR', registration: 'DOUBLE', sessionId: 'BIGINT', song: 'VARCHAR', status: 'INTEGER',
    ts: 'BIGINT', userAgent: 'VARCHAR', userId: 'VARCHAR'});

INSERT INTO staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id,
    title, duration, year, source_key
)
WITH song_files AS (
    SELECT
        substr(filename, :root_length + 2) AS source_key,
        json_transform(content, '{
            "num_songs": "INTEGER", "artist_id": "VARCHAR", "artist_latitude": "DOUBLE",
            "artist_longitude": "DOUBLE", "artist_location": "VARCHAR", "artist_name": "VARCHAR",
            "song_id": "VARCHAR", "title": "VARCHAR", "duration": "DOUBLE", "year": "INTEGER"}') AS r
    FROM read_text(:songs_glob)
    ORDER BY source_key
)
SELECT
    r.num_songs, r.artist_id, r.artist_latitude, r.artist_longitude, r.artist_location, r.artist_name,
    r.song_id, r.title, r.duration, r.year, source_key
FROM song_files;
