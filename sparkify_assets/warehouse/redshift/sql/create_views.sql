-- Typed, cleaned views over staging: the one home of SPEC.md's cleaning rules on Redshift, with the same
-- semantics as the DuckDB views (blank strings become NULL, year 0 is unknown). Only start_time is
-- written differently: ts (epoch milliseconds, UTC) becomes a TIMESTAMP with its milliseconds kept, as
-- whole days plus the milliseconds left over. DATEADD takes INTEGER amounts and ts does not fit one; the
-- sum is exact integer arithmetic, whichever way the division of ts into days rounds.
-- The star-schema SQL reads only these views, so it is the same on every engine.

CREATE OR REPLACE VIEW stg_events AS
SELECT
    partition_day,
    source_key,
    ts,
    DATEADD(
        millisecond,
        CAST(ts - CAST(ts / 86400000 AS BIGINT) * 86400000 AS INTEGER),
        DATEADD(day, CAST(ts / 86400000 AS INTEGER), TIMESTAMP '1970-01-01 00:00:00')
    )                                               AS start_time,
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
