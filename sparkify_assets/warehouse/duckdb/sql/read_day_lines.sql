-- The one-line records of a load's day files, read by DuckDB's own CSV reader, in parallel, as the view
-- raw_records that parse_events.sql parses (day_lines.py). The files' paths are in the variable
-- day_file_paths, and the registered table day_files gives each path its source_key and partition_day.
--
-- Each line is read whole and as written: one column, the delimiter a NUL byte, no quoting or escaping; a
-- blank line reads as NULL. A line that starts with { and ends with } is a record of its own, as
-- sources/records.py splits a file. A line the reader cannot read (not UTF-8, longer than max_line_size,
-- cut by a NUL byte) is skipped, not an error that would end the load: day_lines.py compares, file by file,
-- how many records DuckDB loaded with the one-line records the Python scan of the file counted
-- (records.scan_slice), and splits in Python any file where they differ, or that the scan finds DuckDB's
-- reader may not read as Python does.
CREATE OR REPLACE TEMP VIEW day_lines AS
SELECT filename AS path, line
FROM read_csv(
    getvariable('day_file_paths'),
    columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '', new_line = '\n', header = false,
    auto_detect = false, strict_mode = false, ignore_errors = true, max_line_size = :max_line_bytes,
    filename = true
)
WHERE starts_with(line, '{') AND ends_with(line, '}');

CREATE OR REPLACE TEMP VIEW raw_records AS
SELECT
    day_files.source_key, day_files.partition_day, CAST(NULL AS BIGINT) AS line_number, day_lines.line AS raw_text,
    CAST(NULL AS VARCHAR) AS scan_error
FROM day_lines
JOIN day_files USING (path);
