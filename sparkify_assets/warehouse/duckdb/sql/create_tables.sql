-- The warehouse tables on DuckDB (SPEC.md, "Tables"). Idempotent: safe on every run.
--
-- VARCHAR widths are Redshift's (redshift/sql/create_tables.sql; test_layout.py keeps the two the same), in
-- UTF-8 bytes. DuckDB itself does not enforce a VARCHAR's width, so the staging rules do: a record with a value
-- longer than its staging column is rejected with a reason naming the column and its width, as on Redshift
-- (parse_events.sql, parse_songs.sql; the engine gives them the widths read from this file). Star columns
-- are as wide as the staging columns they copy.

CREATE TABLE IF NOT EXISTS staging_events (
    artist          VARCHAR(512),
    auth            VARCHAR(64),
    first_name      VARCHAR(256),
    gender          VARCHAR(16),
    item_in_session INTEGER,
    last_name       VARCHAR(256),
    length          DOUBLE,
    level           VARCHAR(16),
    location        VARCHAR(512),
    method          VARCHAR(16),
    page            VARCHAR(64),
    registration    DOUBLE,
    session_id      BIGINT,
    song            VARCHAR(512),
    status          INTEGER,
    ts              BIGINT NOT NULL,
    user_agent      VARCHAR(1024),
    user_id         VARCHAR(16),
    source_key      VARCHAR(1024) NOT NULL,
    partition_day   DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR(64),
    artist_latitude  DOUBLE,
    artist_longitude DOUBLE,
    artist_location  VARCHAR(512),
    artist_name      VARCHAR(512),
    song_id          VARCHAR(64) NOT NULL,
    title            VARCHAR(512),
    duration         DOUBLE,
    year             INTEGER,
    source_key       VARCHAR(1024) NOT NULL
);

CREATE TABLE IF NOT EXISTS staging_rejects (
    source_key  VARCHAR(1024) NOT NULL,
    line_number BIGINT,
    raw_text    VARCHAR(65535),
    reason      VARCHAR(2048) NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

-- One row per source file loaded: how many records the file held. The row-count checks reconcile
-- staging rows + rejects against it.
CREATE TABLE IF NOT EXISTS staging_files (
    source_key    VARCHAR(1024) NOT NULL,
    partition_day DATE,
    records       BIGINT NOT NULL,
    loaded_at     TIMESTAMP NOT NULL
);

-- The users whose staged events changed since users was last built, and from which day on their events
-- must be read (NULL: all of them) (warehouse/sql/note_users_to_refresh.sql).
CREATE TABLE IF NOT EXISTS users_to_refresh (
    user_id   INTEGER NOT NULL,
    since_day DATE
);

-- The match keys of the songs the songs dimension holds, written with it (star/sql/song_catalogue.sql):
-- what songplays are matched against, so a play always names a row of songs.
CREATE TABLE IF NOT EXISTS song_catalogue (
    song_id         VARCHAR(64) NOT NULL,
    artist_id       VARCHAR(64),
    title_key       VARCHAR(512),
    artist_name_key VARCHAR(512),
    duration        DOUBLE
);

-- The SHA-256 of the SQL the functions and views were last created from (warehouse/engine.py,
-- create_tables): one row. The views are created again only when they are missing or it differs.
CREATE TABLE IF NOT EXISTS view_definitions (
    definitions_sha256 VARCHAR(64) NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

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
);

CREATE TABLE IF NOT EXISTS users (
    user_id    INTEGER NOT NULL,
    first_name VARCHAR(256),
    last_name  VARCHAR(256),
    gender     VARCHAR(16),
    level      VARCHAR(16)
);

CREATE TABLE IF NOT EXISTS songs (
    song_id   VARCHAR(64) NOT NULL,
    title     VARCHAR(512),
    artist_id VARCHAR(64),
    year      INTEGER,
    duration  DOUBLE
);

CREATE TABLE IF NOT EXISTS artists (
    artist_id VARCHAR(64) NOT NULL,
    name      VARCHAR(512),
    location  VARCHAR(512),
    latitude  DOUBLE,
    longitude DOUBLE
);

CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL,
    hour       INTEGER,
    day        INTEGER,
    week       INTEGER,
    month      INTEGER,
    year       INTEGER,
    weekday    INTEGER
);
