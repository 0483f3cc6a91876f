-- The song catalogue, in one transaction: the dimensions artists and songs, the match keys the fact is
-- matched against (song_catalogue), and the plays re-matched to the new catalogue.
--
-- SPEC.md: "A matched play names a row of songs and that row's own artist_id, now and after the song
-- catalogue is reloaded." So a reload that removes, changes or adds a song re-matches every staged play
-- (stg_plays matches against song_catalogue, written just before), and then clears any match left that
-- names no song of the new catalogue (a play of a day whose staging was reloaded but whose songplays were
-- not rebuilt yet keeps no reference to a vanished song).

-- artists: one row per artist_id found in the song files.
-- An artist_id can come with different names or locations on different songs. The choice, which is
-- deterministic: the song record that knows most about the artist (name, location, latitude, longitude
-- present), and of those the smallest song_id, then the first source key, then the first values.
DELETE FROM artists;

INSERT INTO artists (artist_id, name, location, latitude, longitude)
WITH artist_records AS (
    SELECT
        artist_id,
        artist_name,
        artist_location,
        artist_latitude,
        artist_longitude,
        ROW_NUMBER() OVER (
            PARTITION BY artist_id
            ORDER BY
                (CASE WHEN artist_name IS NULL THEN 1 ELSE 0 END
                 + CASE WHEN artist_location IS NULL THEN 1 ELSE 0 END
                 + CASE WHEN artist_latitude IS NULL THEN 1 ELSE 0 END
                 + CASE WHEN artist_longitude IS NULL THEN 1 ELSE 0 END),
                song_id,
                source_key,
                artist_name NULLS LAST,
                artist_location NULLS LAST,
                artist_latitude NULLS LAST,
                artist_longitude NULLS LAST
        ) AS preference
    FROM stg_songs
    WHERE artist_id IS NOT NULL
)
SELECT artist_id, artist_name, artist_location, artist_latitude, artist_longitude
FROM artist_records
WHERE preference = 1;

-- songs: one row per song_id, the record stg_song_choice chooses; year 0 (unknown) is already NULL.
DELETE FROM songs;

INSERT INTO songs (song_id, title, artist_id, year, duration)
SELECT song_id, title, artist_id, year, duration
FROM stg_song_choice;

-- The match keys of the same records: what songplays are matched against (stg_plays).
DELETE FROM song_catalogue;

INSERT INTO song_catalogue (song_id, artist_id, title_key, artist_name_key, duration)
SELECT song_id, artist_id, LOWER(title), LOWER(artist_name), duration
FROM stg_song_choice;

-- Re-match the plays already built: each takes the match its staged event has in the new catalogue. Only the
-- staged days from the first to the last day songplays holds (:first_play_day, :last_play_day, read in this
-- transaction: star/assets.py) are matched: a play's day is its event's partition_day, and a first build,
-- whose songplays is still empty, matches none of the staged events (bound as values, the days limit the
-- events stg_plays reads; a subquery in their place does not, on DuckDB).
UPDATE songplays
SET song_id = matched.song_id, artist_id = matched.artist_id
FROM stg_plays AS matched
WHERE songplays.songplay_id = matched.songplay_id
  AND matched.partition_day BETWEEN :first_play_day AND :last_play_day
  AND (COALESCE(songplays.song_id, '') <> COALESCE(matched.song_id, '')
       OR COALESCE(songplays.artist_id, '') <> COALESCE(matched.artist_id, ''));

-- A match that still names no song of the catalogue, or another artist than that song's, is cleared.
UPDATE songplays
SET song_id = NULL, artist_id = NULL
WHERE song_id IS NOT NULL
  AND NOT EXISTS (
      SELECT 1
      FROM songs
      WHERE songs.song_id = songplays.song_id
        AND COALESCE(songs.artist_id, '') = COALESCE(songplays.artist_id, '')
  );
