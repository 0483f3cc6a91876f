-- The one-line records of a batch of day files, read by DuckDB's own CSV reader, in parallel, as the view
-- raw_records that parse_events.sql parses (day_lines.py). The files' paths are in the variable
-- day_file_paths, and the registered table day_files gives each path its source_key and partition_day.
--
-- Each line is read whole and as written: one column, the delimiter a NUL byte (which these files do not
-- hold), no quoting or escaping; a blank line reads as NULL. A line that starts with { and ends with } is a
-- record of its own: sources/records.py scanned each file first (scan_slice) and found its other records
-- itself, and hands a file to this reader only when these lines are exactly the one-line records it finds
-- (no carriage return, NUL byte or invalid UTF-8, no object of several lines taking in such a line, no line
-- over ENGINE_LINE_BYTES). day_lines.py checks that the reader saw as many such lines in each file as the
-- scan counted before it loads the file, and that the file did not change meanwhile, after.
CREATE OR REPLACE TEMP VIEW day_lines AS
SELECT filename AS path, line
FROM read_csv(
    getvariable('day_file_paths'),
    columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '', new_line = '\n', header = false,
    auto_detect = false, strict_mode = false, max_line_size = :max_line_bytes, filename = true
)
WHERE starts_with(line, '{') AND ends_with(line, '}');

CREATE OR REPLACE TEMP VIEW raw_records AS
SELECT
    day_files.source_key, day_files.partition_day, CAST(NULL AS BIGINT) AS line_number, day_lines.line AS raw_text,
    CAST(NULL AS VARCHAR) AS scan_error
FROM day_lines
JOIN day_files USING (path);
