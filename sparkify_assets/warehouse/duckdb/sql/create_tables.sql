-- The warehouse tables on DuckDB (SPEC.md, "Tables"). Idempotent: safe on every run.

CREATE TABLE IF NOT EXISTS staging_events (
    artist          VARCHAR,
    auth            VARCHAR,
    first_name      VARCHAR,
    gender          VARCHAR,
    item_in_session INTEGER,
    last_name       VARCHAR,
    length          DOUBLE,
    level           VARCHAR,
    location        VARCHAR,
    method          VARCHAR,
    page            VARCHAR,
    registration    DOUBLE,
    session_id      BIGINT,
    song            VARCHAR,
    status          INTEGER,
    ts              BIGINT NOT NULL,
    user_agent      VARCHAR,
    user_id         VARCHAR,
    source_key      VARCHAR NOT NULL,
    partition_day   DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR,
    artist_latitude  DOUBLE,
    artist_longitude DOUBLE,
    artist_location  VARCHAR,
    artist_name      VARCHAR,
    song_id          VARCHAR NOT NULL,
    title            VARCHAR,
    duration         DOUBLE,
    year             INTEGER,
    source_key       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging_rejects (
    source_key  VARCHAR NOT NULL,
    line_number BIGINT,
    raw_text    VARCHAR,
    reason      VARCHAR NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

-- One row per source file loaded: how many records the file held. The row-count checks reconcile
-- staging rows + rejects against it.
CREATE TABLE IF NOT EXISTS staging_files (
    source_key    VARCHAR NOT NULL,
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
    song_id         VARCHAR NOT NULL,
    artist_id       VARCHAR,
    title_key       VARCHAR,
    artist_name_key VARCHAR,
    duration        DOUBLE
);

-- The SHA-256 of the SQL the functions and views were last created from (warehouse/engine.py,
-- create_tables): one row. The views are created again only when they are missing or it differs.
CREATE TABLE IF NOT EXISTS view_definitions (
    definitions_sha256 VARCHAR NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS songplays (
    songplay_id BIGINT NOT NULL,
    start_time  TIMESTAMP NOT NULL,
    user_id     INTEGER,
    level       VARCHAR,
    song_id     VARCHAR,
    artist_id   VARCHAR,
    session_id  BIGINT,
    location    VARCHAR,
    user_agent  VARCHAR
);

CREATE TABLE IF NOT EXISTS users (
    user_id    INTEGER NOT NULL,
    first_name VARCHAR,
    last_name  VARCHAR,
    gender     VARCHAR,
    level      VARCHAR
);

CREATE TABLE IF NOT EXISTS songs (
    song_id   VARCHAR NOT NULL,
    title     VARCHAR,
    artist_id VARCHAR,
    year      INTEGER,
    duration  DOUBLE
);

CREATE TABLE IF NOT EXISTS artists (
    artist_id VARCHAR NOT NULL,
    name      VARCHAR,
    location  VARCHAR,
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
