-- DuckDB's functions, called by the engine-neutral views (staging/sql/create_stg_views.sql,
-- warehouse/sql/create_star_views.sql), each the twin of Redshift's (redshift/sql/create_functions.sql).
--
-- Macros, expanded where they are called, so the views cost what the expression written in them would.
-- Stored in the database, not TEMP: the views are stored there too, and every connection that reads them
-- (a later run, the DuckDB CLI) must find them.
--
-- f_epoch_ms_to_timestamp: ts (epoch milliseconds, UTC) as a TIMESTAMP with its milliseconds kept.
CREATE OR REPLACE MACRO f_epoch_ms_to_timestamp(ms) AS epoch_ms(ms);

-- f_days_since_epoch: the days from 1970-01-01 to a DATE (stg_plays numbers each day's plays from it).
-- Written as DATEDIFF because that is what Redshift documents; a DATE minus a DATE is not (issue 13).
CREATE OR REPLACE MACRO f_days_since_epoch(day) AS CAST(date_diff('day', DATE '1970-01-01', day) AS BIGINT);
