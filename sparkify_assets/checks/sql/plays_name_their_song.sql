-- Every matched play names a row of songs and that row's own artist_id (SPEC.md), over the whole fact:
-- the song catalogue re-matches the plays whenever it is reloaded (star/sql/song_catalogue.sql).
-- Returns (violations, detail).
SELECT
    COUNT(*) AS violations,
    'e.g. songplay ' || CAST(MIN(plays.songplay_id) AS VARCHAR) || ' names song ' || MIN(plays.song_id)
        || ' and artist ' || MIN(COALESCE(plays.artist_id, 'NULL')) AS detail
FROM songplays AS plays
LEFT JOIN songs ON songs.song_id = plays.song_id
WHERE plays.song_id IS NOT NULL
  AND (songs.song_id IS NULL OR COALESCE(songs.artist_id, '') <> COALESCE(plays.artist_id, ''));
