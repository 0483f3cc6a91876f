-- Orphan keys: rows of :child whose :column is set but names no row of :parent.
-- Returns (violations, detail).
SELECT
    COUNT(*) AS violations,
    'e.g. ' || MIN(CAST(child.:column AS VARCHAR)) AS detail
FROM :child AS child
LEFT JOIN :parent AS parent ON parent.:key = child.:column
WHERE child.:column IS NOT NULL
  AND parent.:key IS NULL;
