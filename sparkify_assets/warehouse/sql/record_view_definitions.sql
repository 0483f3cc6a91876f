-- After the functions and views were created, in the same transaction: the SHA-256 of the SQL they were
-- created from (warehouse/engine.py, create_tables), the one row of view_definitions.
DELETE FROM view_definitions;

INSERT INTO view_definitions (definitions_sha256, created_at)
VALUES (:sha256, :created_at);
