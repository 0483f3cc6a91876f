-- The lines the last COPY of this session skipped, on every deployment (provisioned, Multi-AZ, Serverless,
-- behind a VPC endpoint or custom domain): SYS_LOAD_ERROR_DETAIL, which AWS recommends over STL_LOAD_ERRORS
-- (that one is for provisioned clusters only and leaves out queries run on concurrency scaling clusters):
-- https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html, joined on
-- query_id = pg_last_copy_id() (https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html).
-- One row per bad line; line_number is the last line of a multi-line JSON object. SYS has no raw line:
-- raw_text stays NULL unless load_errors_raw_lines.sql adds it from STL on a single-AZ provisioned cluster.
CREATE TEMPORARY TABLE load_errors AS
SELECT
    line_number,
    CAST(TRIM(file_name) AS VARCHAR(256)) AS file_name,
    CAST(NULL AS VARCHAR(1024)) AS raw_text,
    CAST(
        TRIM(error_message)
        || CASE WHEN TRIM(column_name) <> '' THEN ' (field ' || TRIM(column_name) || ')' ELSE '' END
        || ' in ' || TRIM(file_name)
        AS VARCHAR(2048)
    ) AS reason
FROM sys_load_error_detail
WHERE query_id = pg_last_copy_id();
