-- The SHA-256 of the SQL the functions and views were last created from (warehouse/engine.py,
-- create_tables), newest first: the views are created again when it is not the code's.
SELECT definitions_sha256
FROM view_definitions
ORDER BY created_at DESC;
