-- Parse the event records of one batch of files (registered as `raw_records`: source_key, partition_day,
-- line_number, raw_text, scan_error) once, on the way into staging_events.
--
-- The record rules (SPEC.md, "Bad records": ts is required and an integer; a non-empty userId must be an
-- integer; an optional field of the wrong type rejects the record, as COPY does (json_values.sql); and,
-- from "Partitions", a day's file holds the events whose ts falls on that UTC day) live in the table macro
-- classified_events: every record with its fields parsed and the reason it is rejected, or NULL. This
-- file inserts the records without a reason; reject_events.sql uses the same macro for the others. A
-- record that is not valid JSON parses to NULL (TRY) and is rejected as 'not valid JSON'. Text fields take
-- any JSON value as its text, as COPY does, and no longer than its column's width in bytes (json_values.sql,
-- text_too_long); the widths, :<column>_width, are bound from create_tables.sql by the engine
-- (`layout.column_widths`). userId's integer rule keeps it within its width.
CREATE OR REPLACE TEMP MACRO classified_events() AS TABLE
WITH parsed AS (
    SELECT
        source_key, partition_day, line_number, raw_text, scan_error,
        TRY(json_transform(raw_text, '{
            "artist": "VARCHAR", "auth": "VARCHAR", "firstName": "VARCHAR", "gender": "VARCHAR",
            "itemInSession": "JSON", "lastName": "VARCHAR", "length": "JSON", "level": "VARCHAR",
            "location": "VARCHAR", "method": "VARCHAR", "page": "VARCHAR", "registration": "JSON",
            "sessionId": "JSON", "song": "VARCHAR", "status": "JSON", "ts": "JSON",
            "userAgent": "VARCHAR", "userId": "JSON"}')) AS r
    FROM raw_records
), typed AS (
    SELECT
        *,
        -- ts and userId as JSON text (see json_values.sql): a JSON integer is digits alone, a string is quoted.
        CAST(r.ts AS VARCHAR) AS ts_json,
        CAST(r.userId AS VARCHAR) AS user_id_json,
        json_int32(r.itemInSession) AS item_in_session,
        json_double(r.length) AS length,
        json_double(r.registration) AS registration,
        json_int64(r.sessionId) AS session_id,
        json_int32(r.status) AS status
    FROM parsed
), classified AS (
    SELECT
        *,
        CASE WHEN regexp_full_match(ts_json, '-?[0-9]+') THEN TRY_CAST(ts_json AS BIGINT) END AS ts_ms,
        CASE
            WHEN starts_with(user_id_json, '"') THEN TRIM(CAST(r.userId ->> '$' AS VARCHAR))
            WHEN user_id_json <> 'null' THEN user_id_json
        END AS user_id_text
    FROM typed
)
SELECT
    classified.*,
    CASE
        WHEN scan_error IS NOT NULL THEN scan_error
        WHEN r IS NULL THEN 'not valid JSON'
        WHEN NOT json_present(r.ts) THEN 'missing required field ts'
        WHEN ts_ms IS NULL THEN 'ts must be an integer (epoch milliseconds), got ' || ts_json
        WHEN ts_ms NOT BETWEEN
                date_diff('day', DATE '1970-01-01', partition_day) * 86400000
                AND date_diff('day', DATE '1970-01-01', partition_day) * 86400000 + 86399999
            THEN 'ts ' || CAST(r.ts AS VARCHAR) || ' is not on the partition day ' || CAST(partition_day AS VARCHAR)
        WHEN json_present(r.userId) AND NOT starts_with(user_id_json, '"')
            AND NOT regexp_full_match(user_id_json, '-?[0-9]+')
            THEN 'userId must be an integer or empty, got ' || CAST(r.userId AS VARCHAR)
        WHEN user_id_text <> ''
            AND NOT (regexp_full_match(user_id_text, '-?[0-9]{1,10}') AND TRY_CAST(user_id_text AS INTEGER) IS NOT NULL)
            THEN 'userId must be an integer or empty, got ' || CAST(r.userId AS VARCHAR)
        ELSE COALESCE(
            json_wrong_type('itemInSession', r.itemInSession, item_in_session, 'an integer'),
            json_wrong_type('length', r.length, length, 'a finite number'),
            json_wrong_type('registration', r.registration, registration, 'a finite number'),
            json_wrong_type('sessionId', r.sessionId, session_id, 'an integer'),
            json_wrong_type('status', r.status, status, 'an integer'),
            text_too_long('artist', r.artist, 'staging_events.artist', :artist_width),
            text_too_long('auth', r.auth, 'staging_events.auth', :auth_width),
            text_too_long('firstName', r.firstName, 'staging_events.first_name', :first_name_width),
            text_too_long('gender', r.gender, 'staging_events.gender', :gender_width),
            text_too_long('lastName', r.lastName, 'staging_events.last_name', :last_name_width),
            text_too_long('level', r.level, 'staging_events.level', :level_width),
            text_too_long('location', r.location, 'staging_events.location', :location_width),
            text_too_long('method', r.method, 'staging_events.method', :method_width),
            text_too_long('page', r.page, 'staging_events.page', :page_width),
            text_too_long('song', r.song, 'staging_events.song', :song_width),
            text_too_long('userAgent', r.userAgent, 'staging_events.user_agent', :user_agent_width)
        )
    END AS reason
FROM classified;

INSERT INTO staging_events (
    artist, auth, first_name, gender, item_in_session, last_name, length, level, location, method,
    page, registration, session_id, song, status, ts, user_agent, user_id, source_key, partition_day
)
SELECT
    r.artist, r.auth, r.firstName, r.gender, item_in_session, r.lastName, length, r.level,
    r.location, r.method, r.page, registration, session_id, r.song, status,
    ts_ms, r.userAgent, user_id_text,
    source_key, partition_day
FROM classified_events()
WHERE reason IS NULL;
