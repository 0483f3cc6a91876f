-- daily_catalogue_coverage (growing the song catalogue): one row per day with plays in :start_day .. :end_day.
--
-- How many of the day's plays the catalogue knows (songplays.song_id set by SPEC.md's match) and how
-- big the catalogue was when the day was built (songs_known, artists_known: the songs and artists
-- tables at that moment; song data is not partitioned, so it has no history of its own).
CREATE TABLE IF NOT EXISTS daily_catalogue_coverage (
    partition_day  DATE NOT NULL,
    plays          BIGINT NOT NULL,
    matched_plays  BIGINT NOT NULL,
    match_share    DOUBLE PRECISION NOT NULL,
    songs_played   INTEGER NOT NULL,
    artists_played INTEGER NOT NULL,
    songs_known    BIGINT NOT NULL,
    artists_known  BIGINT NOT NULL
);

DELETE FROM daily_catalogue_coverage
WHERE partition_day BETWEEN :start_day AND :end_day;

INSERT INTO daily_catalogue_coverage (
    partition_day, plays, matched_plays, match_share, songs_played, artists_played, songs_known, artists_known
)
WITH day_plays AS (
    SELECT
        CAST(start_time AS DATE) AS play_day,
        COUNT(*) AS plays,
        COUNT(song_id) AS matched_plays,
        COUNT(DISTINCT song_id) AS songs_played,
        COUNT(DISTINCT artist_id) AS artists_played
    FROM songplays
    WHERE start_time >= :start_day AND start_time < :after_end_day
    GROUP BY CAST(start_time AS DATE)
), catalogue AS (
    SELECT s.songs_known, a.artists_known
    FROM (SELECT COUNT(*) AS songs_known FROM songs) AS s
    CROSS JOIN (SELECT COUNT(*) AS artists_known FROM artists) AS a
)
SELECT
    d.play_day,
    d.plays,
    d.matched_plays,
    CAST(d.matched_plays AS DOUBLE PRECISION) / d.plays,
    d.songs_played,
    d.artists_played,
    c.songs_known,
    c.artists_known
FROM day_plays AS d
CROSS JOIN catalogue AS c;
