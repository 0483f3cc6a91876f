-- Parse the event records of one batch of files (registered as `raw_records`) once, and decide for each
-- record whether it loads or is rejected, and why (SPEC.md, "Bad records": ts is required and an integer;
-- a non-empty userId must be an integer). Other fields that do not fit their type load as NULL.
CREATE OR REPLACE TEMP TABLE parsed_records AS
WITH parsed AS (
    SELECT
        source_key,
        :partition_day AS partition_day,
        line_number,
        raw_text,
        scan_error,
        CASE WHEN scan_error IS NULL AND json_valid(raw_text) THEN json_transform(raw_text, '{
            "artist": "VARCHAR", "auth": "VARCHAR", "firstName": "VARCHAR", "gender": "VARCHAR",
            "itemInSession": "INTEGER", "lastName": "VARCHAR", "length": "DOUBLE", "level": "VARCHAR",
            "location": "VARCHAR", "method": "VARCHAR", "page": "VARCHAR", "registration": "DOUBLE",
            "sessionId": "BIGINT", "song": "VARCHAR", "status": "INTEGER", "ts": "JSON",
            "userAgent": "VARCHAR", "userId": "JSON"}') END AS r
    FROM raw_records
), classified AS (
    SELECT
        *,
        json_type(r.ts) AS ts_type,
        CASE json_type(r.userId)
            WHEN 'VARCHAR' THEN TRIM(CAST(r.userId ->> '$' AS VARCHAR))
            WHEN 'NULL' THEN NULL
            ELSE CAST(r.userId AS VARCHAR)
        END AS user_id_text,
        json_type(r.userId) AS user_id_type
    FROM parsed
)
SELECT
    *,
    CASE
        WHEN scan_error IS NOT NULL THEN scan_error
        WHEN r IS NULL THEN 'not valid JSON'
        WHEN ts_type IS NULL OR ts_type = 'NULL' THEN 'missing required field ts'
        WHEN ts_type NOT IN ('BIGINT', 'UBIGINT') OR TRY_CAST(CAST(r.ts AS VARCHAR) AS BIGINT) IS NULL
            THEN 'ts must be an integer (epoch milliseconds), got ' || CAST(r.ts AS VARCHAR)
        WHEN user_id_type NOT IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL')
            THEN 'userId must be an integer or empty, got ' || CAST(r.userId AS VARCHAR)
        WHEN user_id_text <> ''
            AND NOT (regexp_full_match(user_id_text, '-?[0-9]{1,10}') AND TRY_CAST(user_id_text AS INTEGER) IS NOT NULL)
            THEN 'userId must be an integer or empty, got ' || CAST(r.userId AS VARCHAR)
    END AS reason
FROM classified;

INSERT INTO staging_events
SELECT
    r.artist, r.auth, r.firstName, r.gender, r.itemInSession, r.lastName, r.length, r.level,
    r.location, r.method, r.page, r.registration, r.sessionId, r.song, r.status,
    CAST(CAST(r.ts AS VARCHAR) AS BIGINT), r.userAgent, user_id_text,
    source_key, partition_day
FROM parsed_records
WHERE reason IS NULL;

INSERT INTO staging_rejects
SELECT source_key, line_number, raw_text, reason, :loaded_at
FROM parsed_records
WHERE reason IS NOT NULL;
