"""The Redshift path rehearsed end to end (issue 13, item 10; docs/redshift.md, "The rehearsal").

The real asset graph runs with the production Redshift engine, over the real sample on moto's S3, against
a connection that runs every statement it sends on a DuckDB file as it is sent (`rehearsal.py`: sqlglot's
translation, COPY emulated from the JSONPaths file and the S3 objects, the load error tables emulated from
its rejects). A one-day run, then a 3-day window run over it, give SPEC.md's figures for 2018-11-05 and,
row for row, the tables the DuckDB engine builds from the same days; bad lines reach staging_rejects
through the emulated load error tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
import redshift_connector
from dagster import ExecuteInProcessResult
from dagster_aws.s3 import S3Resource

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import JSONPATHS_KEY, SONG_PREFIX
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import TooManyRejects
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.recording import RecordingRedshiftWarehouse
from sparkify_assets_tests.conftest import resources_for, run_graph, upload_tree
from sparkify_assets_tests.warehouse.conftest import ROLE_ARN
from sparkify_assets_tests.warehouse.redshift.rehearsal import (
    NotRehearsable,
    RehearsalConnection,
    RehearsalRedshiftWarehouse,
)

pytestmark = pytest.mark.slow

BUCKET = "sparkify-rehearsal"
DAY = "2018-11-05"
WINDOW = ("2018-11-04", "2018-11-06")
#: SPEC.md, "Figures on the real sample": partition 2018-11-05 alone, and the song catalogue (all of it).
SPEC_DAY = {"staging_events": 408, "songplays": 356, "time": 356, "users_seen": 29}
SPEC_CATALOGUE = {"staging_songs": 71, "songs": 71, "artists": 69}
#: Columns not compared: when a row was written (every table), and where the engines keep different books
#: by design: the Redshift engine COPYs all of song_data/ in one statement (copy_songs.sql), so its song
#: rows name the prefix as their source_key, and staging_files holds one row for the catalogue where DuckDB
#: has one per song file (compared as one row, the sum of the song files' records: `COMPARED`).
NOT_COMPARED = {"*": {"loaded_at"}, "staging_songs": {"source_key"}}
#: view_definitions holds the SHA-256 of each engine's own functions and views (warehouse/engine.py,
#: create_tables), which differ by design: compared as its one row.
COMPARED = {
    "staging_files": "SELECT {names} FROM {table} WHERE partition_day IS NOT NULL "
    "UNION ALL SELECT 'song_data/', NULL, SUM(records) FROM {table} WHERE partition_day IS NULL",
    "view_definitions": "SELECT COUNT(*) FROM {table}",
}


def _day_key(day: str) -> str:
    return f"log_data/{day[:4]}/{day[5:7]}/{day}-events.json"


def _source_tree(real_sample: Path, target: Path, days: list[str]) -> Path:
    """A source root with the real sample's JSONPaths file, song files and ``days``."""
    for relative in [JSONPATHS_KEY, *(_day_key(day) for day in days)]:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes((real_sample / relative).read_bytes())
    for song in (real_sample / SONG_PREFIX).rglob("*.json"):
        relative = song.relative_to(real_sample)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(song.read_bytes())
    return target


@dataclass
class Rehearsal:
    """A rehearsal database and how to run the graph on it."""

    database: Path
    source: SparkifySource
    log: StatementLog

    def warehouse(self, **settings: Any) -> RehearsalRedshiftWarehouse:
        return RehearsalRedshiftWarehouse(
            iam_role_arn=ROLE_ARN, rehearsal_database=str(self.database), recorder=self.log, **settings
        )

    def run(self, settings: dict[str, Any] | None = None, **how: Any) -> ExecuteInProcessResult:
        """The whole graph (or ``selection``) for ``partition`` or ``partition_range``; the log holds its statements."""
        self.log.statements.clear()
        warehouse = self.warehouse(**(settings or {}))
        return run_graph({"warehouse": warehouse, "source": self.source}, raise_on_error=False, **how)


def assert_succeeded(result: ExecuteInProcessResult) -> None:
    """The run succeeded; otherwise the first failure's innermost message (a statement the rehearsal cannot
    run names itself)."""
    if result.success:
        return
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            while error.cause is not None:
                error = error.cause
            pytest.fail(f"{event.step_key}: {error.message}")
    pytest.fail("the run failed")


@pytest.fixture(scope="module")
def s3(moto_s3_endpoint: str) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-west-2",
            "AWS_ENDPOINT_URL_S3": moto_s3_endpoint,
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield moto_s3_endpoint


def _s3_source(s3: str, local: Path, prefix: str) -> SparkifySource:
    upload_tree(boto3.client("s3", region_name="us-west-2"), local, BUCKET, prefix)
    return SparkifySource(uri=f"s3://{BUCKET}/{prefix}", s3=S3Resource(region_name="us-west-2", endpoint_url=s3))


def _rows(connection: duckdb.DuckDBPyConnection, name: str, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    names = ", ".join(f'"{column}"' for column in columns)
    query = COMPARED.get(name, "SELECT {names} FROM {table}").format(names=names, table=table)
    return sorted(connection.execute(query).fetchall(), key=repr)


def differences(rehearsal: Path, other: Path, other_schema: str = "main") -> dict[str, str]:
    """Every table of ``other`` (by default the DuckDB engine's build) whose rows differ from the rehearsal's
    (on the columns both have, `NOT_COMPARED` left out), or that the rehearsal lacks."""
    connection = duckdb.connect(str(rehearsal))
    try:
        connection.execute(f"ATTACH '{other}' AS other (READ_ONLY)")
        columns: dict[tuple[str, str], list[str]] = {}
        for catalog, table, column in connection.execute(
            "SELECT CASE c.table_catalog WHEN 'other' THEN 'other' ELSE 'ours' END, c.table_name, c.column_name "
            "FROM information_schema.columns AS c "
            "JOIN information_schema.tables AS t USING (table_catalog, table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' AND ((c.table_catalog = 'other' AND c.table_schema = ?) "
            "OR (c.table_catalog = current_database() AND c.table_schema = 'public')) "
            "ORDER BY c.ordinal_position",
            [other_schema],
        ).fetchall():
            columns.setdefault((catalog, table), []).append(column)
        found = {}
        for (catalog, table), their_columns in columns.items():
            if catalog != "other":
                continue
            ours = columns.get(("ours", table))
            if ours is None:
                found[table] = "missing from the rehearsal"
                continue
            ignored = NOT_COMPARED["*"] | NOT_COMPARED.get(table, set())
            shared = [column for column in their_columns if column in ours and column not in ignored]
            expected = _rows(connection, table, f'other.{other_schema}."{table}"', shared)
            got = _rows(connection, table, f'public."{table}"', shared)
            if got != expected:
                found[table] = f"{len(got)} rows rehearsed, {len(expected)} in {other.name}"
        return found
    finally:
        connection.close()


def count(database: Path, sql: str) -> int:
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return int(connection.execute(sql).fetchone()[0])
    finally:
        connection.close()


def day_figures(database: Path, day: str, schema: str) -> dict[str, int]:
    """SPEC.md's figures for one partition: staging events, songplays, time rows, users seen that day."""
    on_day = f"CAST(start_time AS DATE) = DATE '{day}'"
    return {
        "staging_events": count(
            database, f"SELECT COUNT(*) FROM {schema}.staging_events WHERE partition_day = '{day}'"
        ),
        "songplays": count(database, f"SELECT COUNT(*) FROM {schema}.songplays WHERE {on_day}"),
        "time": count(database, f"SELECT COUNT(*) FROM {schema}.time WHERE {on_day}"),
        "users_seen": count(
            database,
            f"SELECT COUNT(DISTINCT user_id) FROM {schema}.staging_events WHERE partition_day = '{day}' "
            "AND user_id <> ''",
        ),
    }


# -- the runs -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_tree(real_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    days = [f"2018-11-{day:02}" for day in range(int(WINDOW[0][-2:]), int(WINDOW[1][-2:]) + 1)]
    return _source_tree(real_sample, tmp_path_factory.mktemp("source"), days)


@pytest.fixture(scope="module")
def rehearsal(s3: str, sample_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    return Rehearsal(
        tmp_path_factory.mktemp("rehearsal") / "redshift.duckdb", _s3_source(s3, sample_tree, "udacity"), StatementLog()
    )


@pytest.fixture(scope="module")
def one_day(rehearsal: Rehearsal, sample_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    result = rehearsal.run(partition=DAY)
    assert_succeeded(result)
    built = tmp_path_factory.mktemp("duckdb-day") / "warehouse.duckdb"
    assert run_graph(resources_for(sample_tree, built), partition=DAY).success
    return result, list(rehearsal.log.sql), built


@pytest.fixture(scope="module")
def window(one_day, rehearsal: Rehearsal, sample_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    result = rehearsal.run(partition_range=WINDOW)
    assert_succeeded(result)
    built = tmp_path_factory.mktemp("duckdb-window") / "warehouse.duckdb"
    assert run_graph(resources_for(sample_tree, built), partition_range=WINDOW).success
    return result, list(rehearsal.log.sql), built


def test_a_one_day_run_gives_specs_figures(one_day, rehearsal: Rehearsal) -> None:
    """SPEC.md, "Figures on the real sample": partition 2018-11-05 alone; the whole song catalogue."""
    result, statements, _ = one_day
    assert day_figures(rehearsal.database, DAY, "public") == SPEC_DAY
    for table, rows in SPEC_CATALOGUE.items():
        assert count(rehearsal.database, f"SELECT COUNT(*) FROM public.{table}") == rows, table
    # The run's own logic saw real answers: COPY's count and the load errors reach the metadata, the checks pass.
    events = result.asset_materializations_for_node("staging_events")[0].metadata
    assert (events["records_read"].value, events["rows_loaded"].value) == (SPEC_DAY["staging_events"],) * 2
    assert [e.check_name for e in result.get_asset_check_evaluations() if not e.passed] == []
    assert len(result.get_asset_check_evaluations()) > 0
    copies = [s for s in statements if s.startswith("COPY")]
    assert len(copies) == 2 and all(
        statements[statements.index(c) + 1] == "SELECT pg_last_copy_count()" for c in copies
    )


def test_a_one_day_run_equals_the_duckdb_engines_build_row_for_row(one_day, rehearsal: Rehearsal) -> None:
    """SPEC.md: every engine gives the same rows for the same input."""
    _, _, built = one_day
    assert differences(rehearsal.database, built) == {}


def test_a_three_day_window_over_it_equals_the_duckdb_engines_build_row_for_row(window, rehearsal: Rehearsal) -> None:
    """SPEC.md, "Partitions" and "The invariant": the window re-run replaces its days (2018-11-05 included)
    and the tables equal a from-scratch build of the same days."""
    result, statements, built = window
    assert len([s for s in statements if s.startswith("COPY staging_events_copy")]) == 3
    assert day_figures(rehearsal.database, DAY, "public") == SPEC_DAY
    for day in WINDOW:
        assert day_figures(rehearsal.database, day, "public") == day_figures(built, day, "main")
    assert differences(rehearsal.database, built) == {}
    assert [e.check_name for e in result.get_asset_check_evaluations() if not e.passed] == []


def test_the_recording_connections_log_replayed_on_a_fresh_database_builds_the_same_tables(
    window, rehearsal: Rehearsal, tmp_path: Path
) -> None:
    """What `sparkify sql` prints runs as it is: the statements the recording connection logs for the same
    one-day run and 3-day window run, executed in order on a fresh database by the same rules, build the
    same tables as the rehearsal did (the statements depend on what a query answered in one place only, whether
    the views exist and are current: the first recorded run is of a new warehouse, the second of that one)."""
    recorded = StatementLog()
    for how in ({"partition": DAY}, {"partition_range": WINDOW}):
        # The first run finds a new warehouse (it creates the views), the second the views the first created.
        views_exist = "partition_range" in how
        warehouse = RecordingRedshiftWarehouse(iam_role_arn=ROLE_ARN, recorder=recorded, views_exist=views_exist)
        assert_succeeded(run_graph({"warehouse": warehouse, "source": rehearsal.source}, raise_on_error=False, **how))
    replay = RehearsalConnection(str(tmp_path / "replay.duckdb"), StatementLog())
    try:
        for statement in recorded.sql:
            replay.cursor().execute(statement)
    finally:
        replay.close()
    assert len(replay.log.sql) == len(recorded.sql) > 0
    assert differences(rehearsal.database, tmp_path / "replay.duckdb", other_schema="public") == {}


# -- load errors -------------------------------------------------------------------------------------------
#: Lines appended to the real day file: two COPY rejects (not JSON; ts not an integer), one the SQL rules reject.
BAD_LINES = [
    '{"ts": 1541439999999, "userId": "7", "page": "NextSong"',
    '{"ts": "soon", "userId": "7", "page": "NextSong"}',
    '{"ts": 1541439999999, "userId": "seven", "page": "NextSong"}',
]


@pytest.fixture(scope="module")
def bad_tree(real_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = _source_tree(real_sample, tmp_path_factory.mktemp("bad-source"), [DAY])
    day_file = tree / _day_key(DAY)
    day_file.write_bytes(day_file.read_bytes().rstrip(b"\n") + b"\n" + "\n".join(BAD_LINES).encode() + b"\n")
    return tree


#: A provisioned cluster (STL_LOAD_ERRORS), and Serverless (SYS_LOAD_ERROR_DETAIL): the engine reads its load
#: errors from the table its settings say.
DEPLOYMENTS = {"provisioned": {}, "serverless": {"workgroup": "sparkify", "aws_region": "us-west-2"}}


@pytest.fixture(scope="module")
def bad_built(bad_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DuckDB engine's staging of the day with bad lines."""
    built = tmp_path_factory.mktemp("bad-duckdb") / "warehouse.duckdb"
    assert run_graph(resources_for(bad_tree, built), partition=DAY, selection=["staging_events"]).success
    return built


@pytest.fixture(scope="module", params=sorted(DEPLOYMENTS))
def bad_run(request: pytest.FixtureRequest, s3: str, bad_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    """The rehearsed staging of the day with bad lines, on each kind of deployment."""
    settings = DEPLOYMENTS[request.param]
    database = tmp_path_factory.mktemp(f"bad-{request.param}") / "redshift.duckdb"
    bad = Rehearsal(database, _s3_source(s3, bad_tree, "bad"), StatementLog())
    assert_succeeded(bad.run(partition=DAY, selection=["staging_events"], settings=settings))
    return bad, settings


def test_lines_copy_rejects_reach_staging_rejects_through_the_emulated_load_errors(
    bad_run, bad_tree: Path, bad_built: Path
) -> None:
    """SPEC.md, "Bad records": bad lines are kept in staging_rejects with their line, valid ones all load;
    the same records as on the DuckDB engine."""
    bad, _ = bad_run
    assert any("load_error" in s and "pg_last_copy_id()" in s for s in bad.log.sql)
    lines = len((bad_tree / _day_key(DAY)).read_text().splitlines())
    copy_rejected = [lines - 2, lines - 1]  # COPY reports the line; the SQL rules' rejects have none
    connection = duckdb.connect(str(bad.database), read_only=True)
    try:
        rejected = connection.execute(
            "SELECT line_number, reason FROM public.staging_rejects ORDER BY line_number NULLS LAST"
        ).fetchall()
    finally:
        connection.close()
    assert [line for line, _ in rejected] == [*copy_rejected, None]
    assert "Invalid JSON object" in rejected[0][1] and "(field ts)" in rejected[1][1]
    assert "userId must be an integer" in rejected[2][1]
    assert count(bad_built, "SELECT COUNT(*) FROM staging_rejects") == 3
    # Every other table row for row; the rejects' reasons are each engine's own words.
    assert set(differences(bad.database, bad_built)) <= {"staging_rejects"}


def test_more_bad_lines_than_maxerror_fail_the_partition_which_keeps_its_rows(bad_run) -> None:
    """SPEC.md, "Partitions": all of it or none of it. COPY fails past MAXERROR, at once (a SourceError is not
    retried) naming the file and the setting; the day keeps its rows."""
    bad, settings = bad_run
    before = count(bad.database, "SELECT COUNT(*) FROM public.staging_events")
    warehouse = bad.warehouse(**settings, max_errors=1)
    try:
        with pytest.raises(TooManyRejects, match=r"met more than REDSHIFT_MAXERROR=1 bad lines.*Load into table"):
            warehouse.load_staging_events(bad.source, DayWindow.parse(DAY), lambda message: None)
    finally:
        warehouse.close()
    assert bad.log.sql[-1] == "ROLLBACK"
    assert count(bad.database, "SELECT COUNT(*) FROM public.staging_events") == before > 0


def test_the_rules_for_what_only_redshift_has(tmp_path: Path) -> None:
    """rehearsal.py's rules: LOCK is a no-op, OCTET_LENGTH counts UTF-8 bytes, DATEDIFF goes through sqlglot,
    pg_last_copy_id() is -1 before any COPY; a statement without a rule, or one DuckDB refuses, fails naming it."""
    connection = RehearsalConnection(str(tmp_path / "r.duckdb"), StatementLog())
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE t (a VARCHAR(8) ENCODE zstd) DISTSTYLE ALL SORTKEY (a)")
        cursor.execute("LOCK t")
        cursor.execute("INSERT INTO t VALUES ('été')")
        cursor.execute(
            "SELECT OCTET_LENGTH(a), DATEDIFF(day, DATE '1970-01-01', DATE '2018-11-05'), pg_last_copy_id() FROM t"
        )
        assert cursor.fetchall() == [(5, 17840, -1)]
        with pytest.raises(NotRehearsable, match="VACUUM songplays"):
            cursor.execute("VACUUM songplays")
        with pytest.raises(redshift_connector.ProgrammingError, match="no_such_table"):
            cursor.execute("SELECT COUNT(*) FROM no_such_table")
    finally:
        connection.close()
