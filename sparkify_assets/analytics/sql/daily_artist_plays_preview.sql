-- The ten most played artists of :start_day .. :end_day (the Markdown preview).
SELECT
    MIN(artist_name) AS artist_name,
    MIN(artist_id) AS artist_id,
    SUM(plays) AS plays,
    COUNT(*) AS days_played
FROM daily_artist_plays
WHERE partition_day BETWEEN :start_day AND :end_day
GROUP BY LOWER(artist_name)
ORDER BY SUM(plays) DESC, LOWER(artist_name)
LIMIT 10;
