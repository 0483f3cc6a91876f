-- ONE COPY over every song file under song_data/ into a session temp table (dropped by drop_copied.sql).
-- JSON 'auto ignorecase' matches the song fields to the columns by name; pretty-printed files load too.
-- REGION, MAXERROR (REDSHIFT_MAXERROR + 1) and COMPUPDATE/STATUPDATE as for the events (copy_events.sql).
-- song_id may be missing here: it is rejected with a reason in SQL, as on DuckDB. Text is VARCHAR(65535), as
-- in copy_events.sql: stage_songs.sql rejects a value longer than its staging_songs column, with a reason.
CREATE TEMPORARY TABLE staging_songs_copy (
    num_songs        INTEGER,
    artist_id        VARCHAR(65535),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(65535),
    artist_name      VARCHAR(65535),
    song_id          VARCHAR(65535),
    title            VARCHAR(65535),
    duration         DOUBLE PRECISION,
    year             INTEGER,
    reason           VARCHAR(2048)
);

COPY staging_songs_copy (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id,
    title, duration, year
)
FROM :prefix_uri
IAM_ROLE :iam_role_arn
REGION :copy_region
FORMAT AS JSON 'auto ignorecase'
MAXERROR :max_errors
COMPUPDATE OFF
STATUPDATE OFF;
