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
-- DuckDB) and text is VARCHAR(65535), Redshift's widest: COPY would fail a value longer than its column
-- ("String length exceeds DDL length", a load error that only MAXERROR keeps from failing the load), so it
-- takes any text and stage_events.sql rejects a value longer than its staging_events column, naming the
-- column and its width, as DuckDB does (a non-integer userId is rejected there too, naming the value).
CREATE TEMPORARY TABLE staging_events_copy (
    artist          VARCHAR(65535),
    auth            VARCHAR(65535),
    first_name      VARCHAR(65535),
    gender          VARCHAR(65535),
    item_in_session INTEGER,
    last_name       VARCHAR(65535),
    length          DOUBLE PRECISION,
    level           VARCHAR(65535),
    location        VARCHAR(65535),
    method          VARCHAR(65535),
    page            VARCHAR(65535),
    registration    DOUBLE PRECISION,
    session_id      BIGINT,
    song            VARCHAR(65535),
    status          INTEGER,
    ts              BIGINT,
    user_agent      VARCHAR(65535),
    user_id         VARCHAR(65535),
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
