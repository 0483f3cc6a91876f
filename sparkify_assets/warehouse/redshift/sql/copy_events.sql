-- COPY one day's event file, and nothing else, into a session temp table (dropped by drop_copied.sql).
-- :object_uri is the day's full key, checked beforehand to be the only object with that prefix (COPY
-- reads every object under the prefix it is given). FORMAT AS JSON with the JSONPaths file at the source
-- root maps the 18 fields, in its order, onto the columns listed.
-- REGION is the bucket's (REDSHIFT_COPY_REGION, else asked of S3): without it COPY assumes the warehouse's
-- own region, and S3 answers 301 for a bucket elsewhere
-- (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html).
-- MAXERROR is REDSHIFT_MAXERROR + 1: "if the load returns the error_count number of errors or greater, the
-- load fails" (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html), so up to
-- REDSHIFT_MAXERROR bad lines are skipped and logged in the load errors; one more fails the COPY and the
-- whole partition.
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
