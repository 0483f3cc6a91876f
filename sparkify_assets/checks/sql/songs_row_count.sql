-- songs rows = distinct song ids staged.
-- Returns (violations = the difference, detail).
WITH expected AS (
    SELECT COUNT(DISTINCT song_id) AS n FROM stg_songs
), actual AS (
    SELECT COUNT(*) AS n FROM songs
)
SELECT
    ABS(actual.n - expected.n) AS violations,
    CAST(actual.n AS VARCHAR) || ' songs, ' || CAST(expected.n AS VARCHAR) || ' distinct song ids staged' AS detail
FROM expected CROSS JOIN actual;
