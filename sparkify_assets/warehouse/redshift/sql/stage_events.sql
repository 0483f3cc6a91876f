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
    -- A text value longer than its staging column (its width, :<column>_width, read from create_tables.sql by
    -- the engine): Redshift counts a VARCHAR's width in bytes and refuses a longer value
    -- (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html), so the copy table takes any
    -- text (copy_*.sql) and the record is rejected here, with the reason DuckDB gives (its json_values.sql).
    WHEN OCTET_LENGTH(artist) > :artist_width
        THEN 'artist is ' || CAST(OCTET_LENGTH(artist) AS VARCHAR)
            || ' bytes long, longer than staging_events.artist VARCHAR(' || CAST(:artist_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(auth) > :auth_width
        THEN 'auth is ' || CAST(OCTET_LENGTH(auth) AS VARCHAR)
            || ' bytes long, longer than staging_events.auth VARCHAR(' || CAST(:auth_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(first_name) > :first_name_width
        THEN 'firstName is ' || CAST(OCTET_LENGTH(first_name) AS VARCHAR)
            || ' bytes long, longer than staging_events.first_name VARCHAR(' || CAST(:first_name_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(gender) > :gender_width
        THEN 'gender is ' || CAST(OCTET_LENGTH(gender) AS VARCHAR)
            || ' bytes long, longer than staging_events.gender VARCHAR(' || CAST(:gender_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(last_name) > :last_name_width
        THEN 'lastName is ' || CAST(OCTET_LENGTH(last_name) AS VARCHAR)
            || ' bytes long, longer than staging_events.last_name VARCHAR(' || CAST(:last_name_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(level) > :level_width
        THEN 'level is ' || CAST(OCTET_LENGTH(level) AS VARCHAR)
            || ' bytes long, longer than staging_events.level VARCHAR(' || CAST(:level_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(location) > :location_width
        THEN 'location is ' || CAST(OCTET_LENGTH(location) AS VARCHAR)
            || ' bytes long, longer than staging_events.location VARCHAR(' || CAST(:location_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(method) > :method_width
        THEN 'method is ' || CAST(OCTET_LENGTH(method) AS VARCHAR)
            || ' bytes long, longer than staging_events.method VARCHAR(' || CAST(:method_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(page) > :page_width
        THEN 'page is ' || CAST(OCTET_LENGTH(page) AS VARCHAR)
            || ' bytes long, longer than staging_events.page VARCHAR(' || CAST(:page_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(song) > :song_width
        THEN 'song is ' || CAST(OCTET_LENGTH(song) AS VARCHAR)
            || ' bytes long, longer than staging_events.song VARCHAR(' || CAST(:song_width AS VARCHAR) || ')'
    WHEN OCTET_LENGTH(user_agent) > :user_agent_width
        THEN 'userAgent is ' || CAST(OCTET_LENGTH(user_agent) AS VARCHAR)
            || ' bytes long, longer than staging_events.user_agent VARCHAR(' || CAST(:user_agent_width AS VARCHAR) || ')'
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
