-- The figures of each day of :start_day .. :end_day, for the materialization's metadata: how many
-- artists were played, how many of them the catalogue knows, and the day's top artist.
SELECT
    partition_day,
    COUNT(*) AS artists_played,
    SUM(CASE WHEN artist_id IS NOT NULL THEN 1 ELSE 0 END) AS artists_in_catalogue,
    MAX(CASE WHEN rank_in_day = 1 THEN plays END) AS top_artist_plays,
    MAX(CASE WHEN rank_in_day = 1 THEN artist_name END) AS top_artist
FROM daily_artist_plays
WHERE partition_day BETWEEN :start_day AND :end_day
GROUP BY partition_day
ORDER BY partition_day;
