-- Optional, after load_errors.sql: the raw text of each skipped line, which only STL_LOAD_ERRORS keeps
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html). Sent only where the engine has
-- positively detected a single-AZ provisioned cluster: STL views do not exist on Serverless, and Multi-AZ
-- clusters are monitored through SYS views only. A line STL does not have (a COPY that ran on a concurrency
-- scaling cluster) keeps raw_text NULL; the reject is in staging_rejects either way.
UPDATE load_errors
SET raw_text = CAST(TRIM(stl.raw_line) AS VARCHAR(1024))
FROM stl_load_errors AS stl
WHERE stl.query = pg_last_copy_id()
    AND stl.line_number = load_errors.line_number
    AND TRIM(stl.filename) = load_errors.file_name;
