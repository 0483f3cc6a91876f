-- Rows of a table.
SELECT COUNT(*) FROM :table;
