-- Typed, cleaned views over staging: the one home of SPEC.md's cleaning rules, the same on every engine
-- (blank strings become NULL, year 0 is unknown, start_time is ts in UTC with its milliseconds kept). The
-- one thing the engines write differently, epoch milliseconds to a timestamp, is each engine's function
-- f_epoch_ms_to_timestamp (warehouse/<engine>/sql/create_functions.sql), created just before these views.
-- The star-schema SQL reads only these views, so it is the same on every engine.

CREATE OR REPLACE VIEW stg_events AS
SELECT
    partition_day,
    source_key,
    ts,
    f_epoch_ms_to_timestamp(ts)                     AS start_time,
    NULLIF(TRIM(page), '')                          AS page,
    CAST(NULLIF(TRIM(user_id), '') AS INTEGER)      AS user_id,
    NULLIF(TRIM(first_name), '')                    AS first_name,
    NULLIF(TRIM(last_name), '')                     AS last_name,
    NULLIF(TRIM(gender), '')                        AS gender,
    NULLIF(TRIM(level), '')                         AS level,
    NULLIF(TRIM(song), '')                          AS song,
    NULLIF(TRIM(artist), '')                        AS artist,
    length,
    session_id,
    item_in_session,
    NULLIF(TRIM(location), '')                      AS location,
    NULLIF(TRIM(user_agent), '')                    AS user_agent
FROM staging_events;

CREATE OR REPLACE VIEW stg_songs AS
SELECT
    source_key,
    song_id,
    NULLIF(TRIM(title), '')                         AS title,
    NULLIF(TRIM(artist_id), '')                     AS artist_id,
    NULLIF(TRIM(artist_name), '')                   AS artist_name,
    NULLIF(TRIM(artist_location), '')               AS artist_location,
    artist_latitude,
    artist_longitude,
    NULLIF(year, 0)                                 AS year,
    duration
FROM staging_songs;
