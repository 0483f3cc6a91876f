-- COPY one day's event file, and nothing else, into a session temp table (dropped by drop_copied.sql).
-- :object_uri is the day's full key, checked beforehand to be the only object with that prefix (COPY
-- reads every object under the prefix it is given). FORMAT AS JSON with the JSONPaths file at the source
-- root maps the 18 fields, in its order, onto the columns listed. MAXERROR: bad lines up to that number
-- are skipped and logged in the load errors; one more fails the COPY and the whole partition.
-- COMPUPDATE and STATUPDATE are off: the target is a throw-away temp table.
-- Types are those of staging_events, except that ts may be missing (rejected with a reason in SQL, as on
-- DuckDB) and userId is text of any length (a non-integer is rejected in SQL, naming the value).
CREATE TEMPORARY TABLE staging_events_copy (
    artist          VARCHAR(512),
    auth            VARCHAR(64),
    first_name      VARCHAR(256),
    gender          VARCHAR(16),
    item_in_session INTEGER,
    last_name       VARCHAR(256),
    length          DOUBLE PRECISION,
    level           VARCHAR(16),
    location        VARCHAR(512),
    method          VARCHAR(16),
    page            VARCHAR(64),
    registration    DOUBLE PRECISION,
    session_id      BIGINT,
    song            VARCHAR(512),
    status          INTEGER,
    ts              BIGINT,
    user_agent      VARCHAR(1024),
    user_id         VARCHAR(1024),
    reason          VARCHAR(2048)
);

COPY staging_events_copy (
    artist, auth, first_name, gender, item_in_session, last_name, length, level, location, method,
    page, registration, session_id, song, status, ts, user_agent, user_id
)
FROM :object_uri
IAM_ROLE :iam_role_arn
REGION :copy_region
FORMAT AS JSON :jsonpaths_uri
MAXERROR :max_errors
COMPUPDATE OFF
STATUPDATE OFF;
