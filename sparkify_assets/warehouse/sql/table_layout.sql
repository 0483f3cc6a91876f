-- Every column of every table and view in the warehouse's schema :schema, in order, as the engine's catalogue
-- spells its type (with a VARCHAR's width where the engine has one): what warehouse/layout.py compares with
-- the engine's create_tables.sql. One query for all tables. The catalogue filter leaves out DuckDB's temp
-- catalogue, whose schema is also called main.
SELECT table_name, column_name, data_type, character_maximum_length
FROM information_schema.columns
WHERE table_catalog = current_database() AND table_schema = :schema
ORDER BY table_name, ordinal_position;
