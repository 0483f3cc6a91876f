-- The lines the last COPY of this session skipped, on Redshift Serverless (SYS_LOAD_ERROR_DETAIL, which
-- has no raw line: raw_text stays NULL). Same shape as load_errors_provisioned.sql.
CREATE TEMPORARY TABLE load_errors AS
SELECT
    line_number,
    CAST(NULL AS VARCHAR(1024)) AS raw_text,
    CAST(
        TRIM(error_message)
        || CASE WHEN TRIM(column_name) <> '' THEN ' (field ' || TRIM(column_name) || ')' ELSE '' END
        || ' in ' || TRIM(file_name)
        AS VARCHAR(2048)
    ) AS reason
FROM sys_load_error_detail
WHERE query_id = pg_last_copy_id();
