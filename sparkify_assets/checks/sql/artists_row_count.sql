-- artists rows = distinct artist ids staged.
-- Returns (violations = the difference, detail).
WITH expected AS (
    SELECT COUNT(DISTINCT artist_id) AS n FROM stg_songs
), actual AS (
    SELECT COUNT(*) AS n FROM artists
)
SELECT
    ABS(actual.n - expected.n) AS violations,
    CAST(actual.n AS VARCHAR) || ' artists, ' || CAST(expected.n AS VARCHAR) || ' distinct artist ids staged' AS detail
FROM expected CROSS JOIN actual;
