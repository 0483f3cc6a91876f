-- The warehouse tables on Amazon Redshift (SPEC.md, "Tables"): the same tables and columns as on DuckDB.
-- Idempotent: safe on every run. The search_path is the configured schema (REDSHIFT_SCHEMA).
--
-- Design, for the queries the analytics team runs (plays over time, by user, song, artist, hour, weekday):
-- * songplays, the fact, is the only table that grows with traffic. It is distributed on start_time and
--   sorted on start_time: plays spread evenly over the slices (every millisecond hashes apart), a day or a
--   month of plays is a range restriction that zone maps prune, the partition DELETE reads one range, and
--   the join to time is co-located because time uses the same distribution key.
-- * time has one row per distinct play start time, so it grows like songplays: KEY(start_time) as well,
--   sorted on start_time.
-- * users, songs and artists are small dimensions (about 100, 15,000 and 10,000 rows on the full
--   Udacity data): DISTSTYLE ALL puts a copy on every node, so joining them to songplays never moves
--   rows. Sorted on their key, which the upserts and the uniqueness checks filter on.
-- * staging_events is read a window of days at a time (partition_day), so it is sorted on partition_day;
--   EVEN distribution, because its natural join key (user_id) is empty for logged-out events and would skew.
-- * staging_songs is joined to every play of a window by the song match (title, artist name): ALL, so the
--   match runs locally on every node. Switch it and songs to DISTSTYLE AUTO if the catalogue ever grows
--   past a few million songs.
-- * staging_rejects and staging_files are bookkeeping, read by source_key / partition_day.
-- No column encodings are given: Redshift picks them (ENCODE AUTO) and leaves sort key columns RAW.
--
-- Types: DOUBLE PRECISION for length, duration, registration and coordinates (never DECIMAL with scale 0);
-- BIGINT for ts, session_id and songplay_id. VARCHAR sizes are in bytes and leave room above the real data
-- (longest on the Udacity sample: user agent 139 bytes, song 159, song title 52, artist name 101):
-- free text 512, user agents 1024. A value longer than its column is rejected by COPY into
-- staging_rejects, never silently truncated; star columns are as wide as the staging columns they copy.

CREATE TABLE IF NOT EXISTS staging_events (
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
    ts              BIGINT NOT NULL,
    user_agent      VARCHAR(1024),
    user_id         VARCHAR(16),
    source_key      VARCHAR(1024) NOT NULL,
    partition_day   DATE NOT NULL
)
DISTSTYLE EVEN
SORTKEY (partition_day);

CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR(64),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(512),
    artist_name      VARCHAR(512),
    song_id          VARCHAR(64) NOT NULL,
    title            VARCHAR(512),
    duration         DOUBLE PRECISION,
    year             INTEGER,
    source_key       VARCHAR(1024) NOT NULL
)
DISTSTYLE ALL
SORTKEY (song_id);

CREATE TABLE IF NOT EXISTS staging_rejects (
    source_key  VARCHAR(1024) NOT NULL,
    line_number BIGINT,
    raw_text    VARCHAR(65535),
    reason      VARCHAR(2048) NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
)
DISTSTYLE EVEN
SORTKEY (source_key);

-- One row per COPY source loaded (a day's event file, or song_data/): how many records it held, that is
-- the rows COPY loaded plus the lines it rejected. The row-count checks reconcile staging rows + rejects
-- against it.
CREATE TABLE IF NOT EXISTS staging_files (
    source_key    VARCHAR(1024) NOT NULL,
    partition_day DATE,
    records       BIGINT NOT NULL,
    loaded_at     TIMESTAMP NOT NULL
)
DISTSTYLE ALL
SORTKEY (partition_day);

-- The users whose staged events changed since users was last built, and from which day on their events
-- must be read (NULL: all of them) (warehouse/sql/note_users_to_refresh.sql).
CREATE TABLE IF NOT EXISTS users_to_refresh (
    user_id   INTEGER NOT NULL,
    since_day DATE
)
DISTSTYLE ALL;

-- The match keys of the songs the songs dimension holds, written with it (star/sql/song_catalogue.sql):
-- what songplays are matched against, so a play always names a row of songs. Beside staging_songs and
-- songs: ALL, so the match runs locally on every node.
CREATE TABLE IF NOT EXISTS song_catalogue (
    song_id         VARCHAR(64) NOT NULL,
    artist_id       VARCHAR(64),
    title_key       VARCHAR(512),
    artist_name_key VARCHAR(512),
    duration        DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (title_key);

-- The SHA-256 of the SQL the functions and views were last created from (warehouse/engine.py,
-- create_tables): one row. The views are created again only when they are missing or it differs.
CREATE TABLE IF NOT EXISTS view_definitions (
    definitions_sha256 VARCHAR(64) NOT NULL,
    created_at         TIMESTAMP NOT NULL
)
DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS songplays (
    songplay_id BIGINT NOT NULL,
    start_time  TIMESTAMP NOT NULL,
    user_id     INTEGER,
    level       VARCHAR(16),
    song_id     VARCHAR(64),
    artist_id   VARCHAR(64),
    session_id  BIGINT,
    location    VARCHAR(512),
    user_agent  VARCHAR(1024)
)
DISTSTYLE KEY
DISTKEY (start_time)
COMPOUND SORTKEY (start_time);

CREATE TABLE IF NOT EXISTS users (
    user_id    INTEGER NOT NULL,
    first_name VARCHAR(256),
    last_name  VARCHAR(256),
    gender     VARCHAR(16),
    level      VARCHAR(16)
)
DISTSTYLE ALL
SORTKEY (user_id);

CREATE TABLE IF NOT EXISTS songs (
    song_id   VARCHAR(64) NOT NULL,
    title     VARCHAR(512),
    artist_id VARCHAR(64),
    year      INTEGER,
    duration  DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (song_id);

CREATE TABLE IF NOT EXISTS artists (
    artist_id VARCHAR(64) NOT NULL,
    name      VARCHAR(512),
    location  VARCHAR(512),
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (artist_id);

CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL,
    hour       INTEGER,
    day        INTEGER,
    week       INTEGER,
    month      INTEGER,
    year       INTEGER,
    weekday    INTEGER
)
DISTSTYLE KEY
DISTKEY (start_time)
COMPOUND SORTKEY (start_time);
