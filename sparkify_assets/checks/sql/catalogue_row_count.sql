-- A song catalogue table (:table) has one row per distinct :key staged (stg_songs): songs per song_id,
-- artists per artist_id. Returns (violations = the difference, detail).
WITH expected AS (
    SELECT COUNT(DISTINCT :key) AS n FROM stg_songs
), actual AS (
    SELECT COUNT(*) AS n FROM :table
)
SELECT
    ABS(actual.n - expected.n) AS violations,
    CAST(actual.n AS VARCHAR) || ' rows, ' || CAST(expected.n AS VARCHAR) || ' distinct keys staged' AS detail
FROM expected CROSS JOIN actual;
