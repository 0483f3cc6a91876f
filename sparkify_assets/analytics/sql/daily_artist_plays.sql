-- daily_artist_plays (artists): one row per day of :start_day .. :end_day and artist played that day.
--
-- The plays are the NextSong events (the rows songplays is built from) of the UTC day of start_time.
-- The artist is the one the app played: the event's artist name, compared trimmed and ignoring case
-- (the spelling shown is the alphabetically first seen that day); plays without an artist name are
-- left out. songplays keeps only artist_id, which is NULL whenever the song is missing from the
-- catalogue, so ranking by it would leave out most plays.
-- artist_id links the name to the catalogue: the artists row with that name (trimmed, ignoring case;
-- of several, the smallest artist_id), NULL when the catalogue does not know the artist.
-- rank_in_day: 1 = most plays that day; ties by more listeners, then by name.
-- The plays are read by partition_day as well as by start_time: the same rows, as an event is staged only
-- in the partition of its ts's UTC day (SPEC.md, "Partitions"; the staging record rules reject any other),
-- but partition_day is staging_events' sort key on Redshift, so its zone maps skip the other days' blocks
-- (https://docs.aws.amazon.com/redshift/latest/dg/t_Sorting_data.html) where start_time, computed by the
-- view from ts, would scan every day.
CREATE TABLE IF NOT EXISTS daily_artist_plays (
    partition_day DATE NOT NULL,
    artist_name   VARCHAR(1024) NOT NULL,
    artist_id     VARCHAR(256),
    plays         BIGINT NOT NULL,
    listeners     INTEGER NOT NULL,
    rank_in_day   INTEGER NOT NULL
);

DELETE FROM daily_artist_plays
WHERE partition_day BETWEEN :start_day AND :end_day;

INSERT INTO daily_artist_plays (partition_day, artist_name, artist_id, plays, listeners, rank_in_day)
WITH played AS (
    SELECT
        CAST(start_time AS DATE) AS play_day,
        LOWER(artist) AS artist_key,
        MIN(artist) AS artist_name,
        COUNT(*) AS plays,
        COUNT(DISTINCT user_id) AS listeners
    FROM stg_events
    WHERE page = 'NextSong'
      AND artist IS NOT NULL
      AND partition_day BETWEEN :start_day AND :end_day
      AND start_time >= :start_day AND start_time < :after_end_day
    GROUP BY CAST(start_time AS DATE), LOWER(artist)
), catalogue_artists AS (
    SELECT LOWER(TRIM(name)) AS artist_key, MIN(artist_id) AS artist_id
    FROM artists
    WHERE name IS NOT NULL
    GROUP BY LOWER(TRIM(name))
)
SELECT
    p.play_day,
    p.artist_name,
    c.artist_id,
    p.plays,
    p.listeners,
    ROW_NUMBER() OVER (
        PARTITION BY p.play_day
        ORDER BY p.plays DESC, p.listeners DESC, p.artist_key
    )
FROM played AS p
LEFT JOIN catalogue_artists AS c ON c.artist_key = p.artist_key;
