-- The lines the last COPY of this session skipped, on a provisioned cluster (STL_LOAD_ERRORS; one row per
-- bad line, line_number being the last line of a multi-line JSON object). Serverless keeps them elsewhere:
-- load_errors_serverless.sql is the same statement on SYS_LOAD_ERROR_DETAIL.
CREATE TEMPORARY TABLE load_errors AS
SELECT
    line_number,
    CAST(TRIM(raw_line) AS VARCHAR(1024)) AS raw_text,
    CAST(
        TRIM(err_reason)
        || CASE WHEN TRIM(colname) <> '' THEN ' (field ' || TRIM(colname) || ')' ELSE '' END
        || ' in ' || TRIM(filename)
        AS VARCHAR(2048)
    ) AS reason
FROM stl_load_errors
WHERE query = pg_last_copy_id();
