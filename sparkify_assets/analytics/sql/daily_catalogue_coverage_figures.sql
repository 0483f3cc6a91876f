-- The figures of each day of :start_day .. :end_day, for the materialization's metadata.
SELECT
    partition_day, plays, matched_plays, match_share, songs_played, artists_played, songs_known, artists_known
FROM daily_catalogue_coverage
WHERE partition_day BETWEEN :start_day AND :end_day
ORDER BY partition_day;
