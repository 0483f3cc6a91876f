-- DuckDB's one function, called by the engine-neutral cleaning views (staging/sql/create_stg_views.sql):
-- ts (epoch milliseconds, UTC) as a TIMESTAMP with its milliseconds kept. A macro, expanded where it is
-- called, so the views cost what epoch_ms(ts) written in them would. Stored in the database, not TEMP: the
-- views are stored there too, and every connection that reads them (a later run, the DuckDB CLI) must find it.
CREATE OR REPLACE MACRO f_epoch_ms_to_timestamp(ms) AS epoch_ms(ms);
