-- Redshift's functions, called by the engine-neutral views (staging/sql/create_stg_views.sql,
-- warehouse/sql/create_star_views.sql). f_epoch_ms_to_timestamp:
-- ts (epoch milliseconds, UTC) as a TIMESTAMP with its milliseconds kept, the same values as DuckDB's
-- epoch_ms (warehouse/duckdb/sql/create_functions.sql). Written as whole days plus the milliseconds left
-- over: DATEADD takes INTEGER amounts and ts does not fit one; the sum is exact integer arithmetic,
-- whichever way the division of ts into days rounds.
-- A scalar SQL UDF: its body is one SELECT without FROM, $1 its argument; IMMUTABLE, as the same ts always
-- gives the same timestamp; named with the f_ prefix Redshift keeps for user functions, so no built-in
-- function can ever take its name. Created in the session's schema (REDSHIFT_SCHEMA), like the views;
-- creating it needs USAGE ON LANGUAGE sql, which Redshift grants to PUBLIC unless an administrator revoked it.
CREATE OR REPLACE FUNCTION f_epoch_ms_to_timestamp(BIGINT)
RETURNS TIMESTAMP
IMMUTABLE
AS $$
    SELECT DATEADD(
        millisecond,
        CAST($1 - CAST($1 / 86400000 AS BIGINT) * 86400000 AS INTEGER),
        DATEADD(day, CAST($1 / 86400000 AS INTEGER), TIMESTAMP '1970-01-01 00:00:00')
    )
$$ LANGUAGE sql;

-- The days from 1970-01-01 to a DATE, the twin of DuckDB's f_days_since_epoch: the engine-neutral view
-- stg_plays (warehouse/sql/create_star_views.sql) numbers each day's plays from it. DATEDIFF(day, ...) is
-- the documented way (https://docs.aws.amazon.com/redshift/latest/dg/r_DATEDIFF_function.html, returns
-- BIGINT); subtracting one DATE from another is not among Redshift's documented date operators, and DuckDB
-- does not take DATEDIFF's bare datepart (it reads `day` as a column), so the shared view calls this function.
CREATE OR REPLACE FUNCTION f_days_since_epoch(DATE)
RETURNS BIGINT
IMMUTABLE
AS $$
    SELECT DATEDIFF(day, DATE '1970-01-01', $1)
$$ LANGUAGE sql;
