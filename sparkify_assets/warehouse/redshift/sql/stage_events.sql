-- Decide for each copied event whether it loads (SPEC.md, "Bad records", with the reasons DuckDB gives):
-- ts is required (a ts that is not an integer never got here: COPY rejected it into load_errors), and a
-- non-empty userId must be an integer; a number is finite. CASE tests in order, so the CAST only sees
-- digits. An optional field COPY cannot convert to its column's type (5.7 or true for an INTEGER, an
-- out-of-range number) never got here either: COPY rejected the line, which DuckDB does the same way.
-- The day's first millisecond: DATEDIFF(day, ...) (BIGINT) days since 1970-01-01 times 86,400,000, as
-- https://docs.aws.amazon.com/redshift/latest/dg/r_DATEDIFF_function.html documents (not DATE - DATE).
UPDATE staging_events_copy
SET reason = CASE
    WHEN ts IS NULL THEN 'missing required field ts'
    WHEN ts NOT BETWEEN DATEDIFF(day, DATE '1970-01-01', :partition_day) * 86400000
                    AND DATEDIFF(day, DATE '1970-01-01', :partition_day) * 86400000 + 86399999
        THEN 'ts ' || CAST(ts AS VARCHAR) || ' is not on the partition day ' || CAST(:partition_day AS VARCHAR)
    WHEN TRIM(user_id) = '' THEN NULL
    WHEN NOT TRIM(user_id) ~ '^-?[0-9]{1,10}$'
        THEN 'userId must be an integer or empty, got ' || user_id
    WHEN CAST(TRIM(user_id) AS BIGINT) NOT BETWEEN -2147483648 AND 2147483647
        THEN 'userId must be an integer or empty, got ' || user_id
    -- COPY reads "NaN" and "Infinity" into a DOUBLE PRECISION column; SPEC.md never stores them. NaN is
    -- outside any range whether it compares as IEEE or as PostgreSQL does (greater than every number).
    WHEN NOT length BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
        THEN 'length must be a finite number, got ' || CAST(length AS VARCHAR)
    WHEN NOT registration BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
        THEN 'registration must be a finite number, got ' || CAST(registration AS VARCHAR)
END;

INSERT INTO staging_events (
    artist, auth, first_name, gender, item_in_session, last_name, length, level, location, method,
    page, registration, session_id, song, status, ts, user_agent, user_id, source_key, partition_day
)
SELECT
    artist, auth, first_name, gender, item_in_session, last_name, length, level, location, method,
    page, registration, session_id, song, status, ts, user_agent, TRIM(user_id), :source_key, :partition_day
FROM staging_events_copy
WHERE reason IS NULL;
