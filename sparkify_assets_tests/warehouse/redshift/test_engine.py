"""The Redshift engine runs the whole asset graph for a partition against a recording stand-in for
redshift-connector: what it sends is valid Redshift SQL, in the transactions SPEC.md asks for, with COPY
loading exactly the day's object."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import boto3
import pytest
import redshift_connector
import sqlglot
from dagster import ExecuteInProcessResult
from dagster_aws.s3 import S3Resource
from sqlglot import exp

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.errors import NotJsonText, SourceError, SourceObjectMissing
from sparkify_assets.sources.layout import JSONPATHS_KEY, event_key
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.star.assets import PLAY_DAYS
from sparkify_assets.star.assets import SQL as STAR_SQL
from sparkify_assets.warehouse.engine import FileLoad
from sparkify_assets.warehouse.layout import expected_tables, layout_query
from sparkify_assets.warehouse.recording import Rows, StatementLog, is_query
from sparkify_assets.warehouse.redshift.engine import SQL as REDSHIFT_SQL
from sparkify_assets.warehouse.redshift.engine import (
    CopyMismatch,
    RedshiftWarehouse,
    SerializationConflict,
    says_single_az,
)
from sparkify_assets.warehouse.redshift.recording import RecordingConnection, catalogue_as_created
from sparkify_assets.warehouse.sql import read_sql, statements
from sparkify_assets_tests.conftest import assert_failed_at_once, local_source, run_graph, step_events
from sparkify_assets_tests.warehouse.conftest import (
    BUCKET,
    PREFIX,
    ROLE_ARN,
    SOURCE_URI,
    one_line,
    parse_redshift,
    recording_warehouse,
    transactions,
)
from sparkify_cli.sql_plan import PlannedSource

DAY = "2018-11-05"
WINDOW = DayWindow.parse(DAY)
STAR_AND_STAGING = ("staging_events", "staging_songs", "songplays", "users", "songs", "artists", "time")


def run_recorded(source: SparkifySource, log: StatementLog, **settings: Any) -> ExecuteInProcessResult:
    return run_graph({"warehouse": recording_warehouse(log, **settings), "source": source}, partition=DAY)


def copies(log: StatementLog) -> list[str]:
    return [one_line(sql) for sql in log.sql if sql.startswith("COPY")]


@pytest.fixture
def recorded(s3_source: SparkifySource) -> StatementLog:
    log = StatementLog()
    assert run_recorded(s3_source, log).success
    return log


def test_every_statement_of_a_partition_run_is_one_valid_redshift_statement(recorded: StatementLog) -> None:
    steps = {statement.step for statement in recorded.statements}
    assert {"staging_events", "staging_songs", "songplays", "checks of songplays"} <= steps
    for statement in recorded.sql:
        if statement.startswith("LOCK "):  # sqlglot keeps LOCK as an opaque command: its one form, checked here
            assert re.fullmatch(r'LOCK "[a-z_]+"(?:, "[a-z_]+")*', statement), statement
        else:
            parse_redshift(statement)


def test_ddl_creates_every_table_with_distribution_and_sort_keys(recorded: StatementLog) -> None:
    created = {}
    for statement in recorded.sql:
        match = re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
        if match:
            created[match.group(1)] = one_line(statement)
    warehouse_tables = {*STAR_AND_STAGING, "staging_rejects", "staging_files"}
    assert warehouse_tables <= set(created)
    for table in warehouse_tables:
        assert "DISTSTYLE" in created[table] and "SORTKEY" in created[table], table
    assert "DISTKEY (start_time) COMPOUND SORTKEY (start_time)" in created["songplays"]
    for dimension in ("users", "songs", "artists"):
        assert "DISTSTYLE ALL" in created[dimension]
    # SPEC.md: duration, length and coordinates keep their precision.
    for table, column in [("songs", "duration"), ("staging_events", "length"), ("artists", "latitude")]:
        assert f"{column} DOUBLE PRECISION" in created[table]


def test_each_partition_load_and_transform_is_one_transaction_that_deletes_the_day_then_inserts(
    recorded: StatementLog,
) -> None:
    """SPEC.md, "Partitions": re-materializing a day replaces exactly that day's rows, all or nothing."""
    assert not any("TRUNCATE" in sql.upper() for sql in recorded.sql)
    found = transactions(recorded.sql)
    for table in ("staging_events", "songplays", "time", "users"):
        (transaction,) = [t for t in found if any(s.startswith(f"DELETE FROM {table}") for s in t)]
        delete = next(i for i, s in enumerate(transaction) if s.startswith(f"DELETE FROM {table}"))
        insert = next(i for i, s in enumerate(transaction) if s.startswith(f"INSERT INTO {table}"))
        assert delete < insert, table
        if table != "users":  # users are upserted by id, see test_users_upsert_...
            assert (
                "'2018-11-05'" in transaction[delete]
                and "'2018-11-06'" in transaction[delete]
                or ("BETWEEN DATE '2018-11-05' AND DATE '2018-11-05'" in transaction[delete])
            )
    # Everything that writes runs inside a transaction; outside one only queries and the session's search_path.
    in_transaction = False
    for sql in recorded.sql:
        if sql in {"BEGIN", "COMMIT"}:
            in_transaction = sql == "BEGIN"
        elif not in_transaction:
            assert is_query(sql) or sql.startswith("SET search_path"), sql[:80]


def test_users_are_rebuilt_for_the_window_and_every_user_whose_staged_events_changed(recorded: StatementLog) -> None:
    """SPEC.md: every users column is the value of the user's latest event among the events staged now; a
    user with no staged event left is no longer a user. The staging load notes the users of the days it
    replaces (before and after), the users step rebuilds them from all their events and clears the note."""
    (load,) = [t for t in transactions(recorded.sql) if any(s.startswith("COPY staging_events_copy") for s in t)]
    notes = [i for i, s in enumerate(load) if s.startswith("INSERT INTO users_to_refresh")]
    clear = next(i for i, s in enumerate(load) if s.startswith("DELETE FROM staging_events"))
    assert len(notes) == 2 and notes[0] < clear < notes[1]
    (transaction,) = [t for t in transactions(recorded.sql) if any(s.startswith("INSERT INTO users (") for s in t)]
    lock, delete, insert, forget = transaction
    assert lock == 'LOCK "staging_events", "users", "users_to_refresh"'  # stg_events reads staging_events
    assert "SELECT user_id FROM users_to_refresh UNION" in one_line(delete)
    assert "partition_day BETWEEN DATE '2018-11-05' AND DATE '2018-11-05'" in one_line(delete)
    insert = one_line(insert)
    assert "FROM stg_events AS e INNER JOIN affected_users AS a" in insert
    assert "ORDER BY e.ts DESC" in insert and "WHERE recency = 1" in insert
    assert forget == "DELETE FROM users_to_refresh"


def test_events_copy_loads_exactly_the_days_object_with_jsonpaths_role_region_and_maxerror(
    recorded: StatementLog,
) -> None:
    events, songs = copies(recorded)
    assert f"FROM '{SOURCE_URI}/log_data/2018/11/2018-11-05-events.json'" in events
    assert f"FORMAT AS JSON '{SOURCE_URI}/log_json_path.json'" in events
    assert f"FROM '{SOURCE_URI}/song_data/'" in songs and "FORMAT AS JSON 'auto ignorecase'" in songs
    for copy in (events, songs):
        assert f"IAM_ROLE '{ROLE_ARN}'" in copy
        assert "REGION 'us-west-2'" in copy  # the moto bucket's, asked of S3
        assert "MAXERROR 1001" in copy  # REDSHIFT_MAXERROR=1000 (the default) bad lines skipped, one more fails
        assert "CREDENTIALS" not in copy and "ACCESS_KEY" not in copy


def test_after_each_copy_the_row_count_and_load_errors_are_read_from_sys(recorded: StatementLog) -> None:
    """AWS recommends SYS_LOAD_ERROR_DETAIL on every deployment; STL_LOAD_ERRORS exists on provisioned clusters
    only and misses concurrency-scaling queries. A cluster named only by its host (a VPC endpoint, a custom
    domain) reads SYS too."""
    sql = recorded.sql
    copies_at = [i for i, s in enumerate(sql) if s.startswith("COPY")]
    assert len(copies_at) == 2
    for index in copies_at:
        assert sql[index + 1] == "SELECT pg_last_copy_count()"
        errors = one_line(sql[index + 2])
        assert errors.startswith("CREATE TEMPORARY TABLE load_errors AS SELECT line_number,")
        assert "FROM sys_load_error_detail WHERE query_id = pg_last_copy_id()" in errors
        for column in ("file_name", "column_name", "error_message"):
            assert f"TRIM({column})" in errors
    assert not any("stl_load_errors" in s for s in sql)


@pytest.mark.parametrize(
    "deployment",
    [
        {"workgroup": "sparkify", "aws_region": "us-west-2"},
        {"host": "sparkify.example.com", "serverless": False},  # a custom domain in front of a cluster
        {"cluster_identifier": "sparkify-cluster", "user": "loader", "aws_region": "us-west-2"},
    ],
)
def test_load_errors_come_from_sys_on_every_deployment_not_known_to_be_single_az(
    s3_source: SparkifySource, deployment: dict[str, Any]
) -> None:
    log = StatementLog()
    recording_warehouse(log, **deployment).load_staging_events(s3_source, WINDOW, print)
    assert any("FROM sys_load_error_detail" in s for s in log.sql)
    assert not any("stl_load_errors" in s for s in log.sql)


def test_a_single_az_cluster_adds_the_raw_lines_from_stl_to_the_sys_rows(s3_source: SparkifySource) -> None:
    log = StatementLog()
    warehouse = recording_warehouse(log, known_single_az_cluster=True)
    warehouse.load_staging_events(s3_source, WINDOW, print)
    sql = [one_line(s) for s in log.sql]
    read = next(i for i, s in enumerate(sql) if "FROM sys_load_error_detail" in s)
    raw = sql[read + 1]
    assert raw.startswith("UPDATE load_errors SET raw_text = CAST(TRIM(stl.raw_line) AS VARCHAR(1024))")
    assert "FROM stl_load_errors AS stl WHERE stl.query = pg_last_copy_id()" in raw
    assert "stl.line_number = load_errors.line_number AND TRIM(stl.filename) = load_errors.file_name" in raw
    # The rejects are written after, from load_errors whichever way it was filled.
    assert sql.index(next(s for s in sql if s.startswith("INSERT INTO staging_rejects"))) > read + 1


def test_copy_counts_and_load_errors_reach_the_materialization_metadata(s3_source: SparkifySource) -> None:
    """SPEC.md, "Bad records": rejects are counted in the run's metadata, and records = loaded + rejected."""

    def answer(sql: str) -> list[tuple[Any, ...]] | None:
        last_copy = next((s for s in reversed(log.sql) if s.startswith("COPY")), "")  # none yet: the DDL
        day = "log_data" in last_copy
        if sql == "SELECT pg_last_copy_count()":
            return [(410,)] if day else [(71,)]
        if "COUNT(reason)" in sql:  # rows landed, rejected by the record rules, skipped by COPY
            return [(410, 2, 3)] if day else [(71, 0, 1)]
        return None

    log = StatementLog(answer)
    result = run_recorded(s3_source, log)
    events = result.asset_materializations_for_node("staging_events")[0].metadata
    assert (events["records_read"].value, events["rows_loaded"].value, events["rows_rejected"].value) == (413, 408, 5)
    songs = result.asset_materializations_for_node("staging_songs")[0].metadata
    assert (songs["records_read"].value, songs["rows_loaded"].value, songs["rows_rejected"].value) == (72, 71, 1)


def test_rejects_and_the_file_count_are_written_in_the_load_transaction(s3_source: SparkifySource) -> None:
    log = StatementLog()
    warehouse = recording_warehouse(log)
    loads = warehouse.load_staging_events(s3_source, WINDOW, lambda message: None)
    assert loads == [FileLoad("log_data/2018/11/2018-11-05-events.json", date(2018, 11, 5), 0, 0, 0)]
    (transaction,) = transactions(log.sql)
    text = [one_line(s) for s in transaction]
    rejects = [s for s in text if s.startswith("INSERT INTO staging_rejects")]
    assert len(rejects) == 2  # the lines COPY skipped, the records the SQL rules rejected
    assert any("FROM load_errors" in s for s in rejects)
    assert any('FROM "staging_events_copy" WHERE reason IS NOT NULL' in s for s in rejects)
    (files,) = [s for s in text if s.startswith("INSERT INTO staging_files")]
    assert '(SELECT COUNT(*) FROM "staging_events_copy") + (SELECT COUNT(*) FROM load_errors)' in files
    assert text.index(files) > text.index(next(s for s in text if s.startswith("INSERT INTO staging_events")))
    assert text[-3:-1] == ['DROP TABLE "staging_events_copy"', "DROP TABLE load_errors"]
    assert text[-1].startswith("INSERT INTO users_to_refresh")  # the users of the day's new rows


def test_a_copy_whose_count_does_not_add_up_rolls_the_partition_back(s3_source: SparkifySource) -> None:
    log = StatementLog(lambda sql: [(5,)] if sql == "SELECT pg_last_copy_count()" else None)
    with pytest.raises(CopyMismatch, match="reported 5 rows"):
        recording_warehouse(log).load_staging_events(s3_source, WINDOW, lambda message: None)
    assert log.sql[-1] == "ROLLBACK" and "COMMIT" not in log.sql


@contextmanager
def stray_object_beside(day: str, endpoint: str) -> Iterator[str]:
    """A ``...-events.json.bak`` sharing the day file's key prefix, for the duration of the block."""
    client = boto3.client("s3", region_name="us-west-2", endpoint_url=endpoint)
    stray = f"{PREFIX}/log_data/2018/11/{day}-events.json.bak"
    client.put_object(Bucket=BUCKET, Key=stray, Body=b"{}")
    try:
        yield stray
    finally:
        client.delete_object(Bucket=BUCKET, Key=stray)


def test_an_object_sharing_the_days_key_stops_the_load_before_anything_runs(
    s3_source: SparkifySource, aws_test_env: str
) -> None:
    log = StatementLog()
    with (
        stray_object_beside("2018-11-04", aws_test_env),
        pytest.raises(SourceError, match=r"2018-11-04-events\.json\.bak"),
    ):
        recording_warehouse(log).load_staging_events(s3_source, DayWindow.parse("2018-11-04"), print)
    assert log.sql == []


def test_an_object_sharing_the_days_key_fails_the_step_without_retries(
    s3_source: SparkifySource, aws_test_env: str
) -> None:
    """Moving the stray object is the fix; running the step again would only meet it again."""
    log = StatementLog()
    with stray_object_beside(DAY, aws_test_env) as stray:
        result = run_graph(
            {"warehouse": recording_warehouse(log), "source": s3_source},
            partition=DAY,
            selection=["staging_events"],
            raise_on_error=False,
        )
    assert_failed_at_once(result, "staging_events", f"COPY would also load s3://{BUCKET}/{stray}")
    assert not [sql for sql in log.sql if sql.startswith(("COPY", "DELETE", "INSERT"))]  # only the DDL ran


def copy_fails_with(message: str) -> StatementLog:
    """A log whose server answers every COPY with ``message`` (a ProgrammingError, as redshift-connector raises)."""
    error = redshift_connector.ProgrammingError(message)
    return StatementLog(fail=lambda sql: error if sql.startswith("COPY") else None)


@pytest.mark.parametrize(
    "server_error",
    [
        "S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid X",
        "Not authorized to get credentials of role arn:aws:iam::123456789012:role/sparkify-copy",
        "S3ServiceException:The specified bucket does not exist,Status 404,Error NoSuchBucket",
    ],
)
def test_a_copy_the_source_refuses_fails_the_step_at_once(s3_source: SparkifySource, server_error: str) -> None:
    """A role or bucket problem is not fixed by running the step again."""
    log = copy_fails_with(server_error)
    result = run_graph(
        {"warehouse": recording_warehouse(log), "source": s3_source},
        partition=DAY,
        selection=["staging_events"],
        raise_on_error=False,
    )
    day_file = f"{SOURCE_URI}/log_data/2018/11/{DAY}-events.json"
    assert_failed_at_once(result, "staging_events", f"COPY cannot read {day_file} with {ROLE_ARN}", server_error)
    assert log.sql[-1] == "ROLLBACK"


def test_other_copy_errors_are_left_to_the_retry_policy(s3_source: SparkifySource) -> None:
    throttled = "S3ServiceException:Please reduce your request rate.,Status 503,Error SlowDown"
    with pytest.raises(redshift_connector.ProgrammingError, match="SlowDown"):
        recording_warehouse(copy_fails_with(throttled)).load_staging_events(s3_source, WINDOW, print)


def test_a_missing_day_file_is_an_error_naming_its_key(s3_source: SparkifySource) -> None:
    """SPEC.md: a missing partition file is an error that names the key."""
    log = StatementLog()
    with pytest.raises(SourceObjectMissing, match=r"udacity/log_data/2018/11/2018-11-20-events\.json"):
        recording_warehouse(log).load_staging_events(s3_source, DayWindow.parse("2018-11-20"), print)
    assert log.sql == []


def test_a_local_source_is_refused_naming_the_setting(tmp_path: Any) -> None:
    with pytest.raises(SourceError, match="SPARKIFY_SOURCE"):
        recording_warehouse(StatementLog()).load_staging_songs(local_source(tmp_path), print)


def test_the_table_layout_is_read_once_a_run_in_one_query_inside_the_ddl_transaction(recorded: StatementLog) -> None:
    """A daily run: the tables are created in a transaction of their own (LOCK can only name tables that
    exist); the layout query follows in the next one, which locks view_definitions and finds the views an
    earlier run created current, so creates no function or view (warehouse/engine.py, create_tables)."""
    assert recorded.sql.count(layout_query("public")) == 1
    found = transactions(recorded.sql)
    (index,) = [i for i, t in enumerate(found) if layout_query("public") in t]
    tables, ddl = found[index - 1], found[index]
    assert tables and all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in tables)
    assert [one_line(s) for s in ddl] == [
        'LOCK "view_definitions"',
        one_line(layout_query("public")),
        "SELECT definitions_sha256 FROM view_definitions ORDER BY created_at DESC",
    ]
    assert sum(1 for s in recorded.sql if s.startswith("CREATE TABLE IF NOT EXISTS staging_events")) == 1


VIEW_OR_FUNCTION = ("CREATE OR REPLACE VIEW", "CREATE OR REPLACE FUNCTION")


def test_a_daily_run_creates_no_view_and_no_function(recorded: StatementLog) -> None:
    """Issue 13: replacing a view locks it against readers (a dashboard's query blocks the load). A warehouse
    whose views an earlier run of this code created keeps them."""
    assert not [s.sql[:60] for s in recorded.statements if s.sql.startswith(VIEW_OR_FUNCTION)]


def test_the_first_run_on_a_new_warehouse_creates_functions_and_views_once_in_its_ddl(
    s3_source: SparkifySource,
) -> None:
    log = StatementLog()
    warehouse = recording_warehouse(log, views_exist=False)
    assert run_graph({"warehouse": warehouse, "source": s3_source}, partition=DAY).success
    created = [s for s in log.statements if s.sql.startswith(VIEW_OR_FUNCTION)]
    assert sorted(re.split(r"[\s(]+", s.sql)[4] for s in created if "VIEW" in s.sql) == sorted(warehouse.view_names())
    assert len({s.step for s in created}) == 1
    (ddl,) = [t for t in transactions(log.sql) if layout_query("public") in t]
    functions_then_views = [s for s in ddl if s.startswith(VIEW_OR_FUNCTION)]
    assert functions_then_views == [s.sql for s in created]
    assert [s.startswith("CREATE OR REPLACE FUNCTION") for s in functions_then_views] == sorted(
        (s.startswith("CREATE OR REPLACE FUNCTION") for s in functions_then_views), reverse=True
    )
    assert ddl[-2] == "DELETE FROM view_definitions"
    assert ddl[-1].startswith("INSERT INTO view_definitions") and f"'{warehouse.views_sha256()}'" in ddl[-1]


def _dates_subtracted(statement: str) -> list[str]:
    """The subtractions in ``statement`` (and in a function's body) one of whose sides is a date: a DATE
    literal or cast, or a column or parameter named as a day or date."""
    parsed = [parse_redshift(statement)]
    parsed += [sqlglot.parse_one(body.name, read="redshift") for body in parsed[0].find_all(exp.Heredoc)]

    def is_date(side: exp.Expression) -> bool:
        if isinstance(side, exp.Cast) and side.to.is_type("date"):
            return True
        return isinstance(side, exp.Column) and re.search(r"(day|date)$", side.name) is not None

    found = [
        sub.sql() for tree in parsed for sub in tree.find_all(exp.Sub) if is_date(sub.this) or is_date(sub.expression)
    ]
    return found + re.findall(r"-\s*DATE\s*'[^']*'", statement)


@pytest.mark.parametrize("partition_range", [(DAY, DAY), ("2018-11-05", "2018-11-07")], ids=["one day", "3 days"])
def test_no_statement_subtracts_a_date_from_a_date(partition_range: tuple[str, str]) -> None:
    """Issue 13: DATE - DATE is not documented for Redshift; days since 1970-01-01 are DATEDIFF(day, ...)."""
    log = StatementLog()
    warehouse = recording_warehouse(log, views_exist=False)  # a first run: the views' SQL is sent too
    source = PlannedSource(uri="s3://udacity-dend", s3=S3Resource())
    assert run_graph({"warehouse": warehouse, "source": source}, partition_range=partition_range).success
    no_lock = [sql for sql in log.sql if not sql.startswith("LOCK ")]  # table names only (test_locks.py)
    assert [found for sql in no_lock for found in _dates_subtracted(sql)] == []
    days_since_epoch = "DATEDIFF(day, DATE '1970-01-01', "
    assert any(days_since_epoch in sql for sql in log.sql if sql.startswith("UPDATE staging_events_copy"))
    assert any(days_since_epoch in sql for sql in log.sql if "FUNCTION f_days_since_epoch" in sql)
    assert any("f_days_since_epoch(partition_day)" in sql for sql in log.sql if "VIEW stg_plays" in sql)


@pytest.mark.parametrize("table", ["staging_events", "staging_songs"])
def test_a_text_longer_than_its_column_is_rejected_by_the_rules_not_left_to_copy(
    recorded: StatementLog, table: str
) -> None:
    """Issue 13, VARCHAR widths: COPY would fail a value longer than its column (a load error, which only
    MAXERROR keeps from failing the load, and whose reason names no width). The copy table takes any text, and
    the record rules reject each over-long VARCHAR column of the staging table, naming it and its width."""
    (definition,) = [t for t in expected_tables(REDSHIFT_SQL / "create_tables.sql") if t.name == table]
    widths = {c.name: c.width for c in definition.columns if c.width is not None and c.name not in {"source_key"}}
    (create_copy,) = [one_line(s) for s in recorded.sql if s.startswith(f"CREATE TEMPORARY TABLE {table}_copy")]
    (rules,) = [one_line(s) for s in recorded.sql if s.startswith(f"UPDATE {table}_copy")]
    for column, width in widths.items():
        assert f"{column} VARCHAR(65535)" in create_copy
        if column == "user_id":  # an integer of at most 11 characters, or rejected before: always fits
            continue
        assert f"WHEN OCTET_LENGTH({column}) > {width} THEN" in rules, column
        assert f"longer than {table}.{column} VARCHAR(' || CAST({width} AS VARCHAR) || ')'" in rules, column


def test_a_staging_table_in_another_column_order_fails_the_step_naming_table_and_column(tmp_path: Any) -> None:
    """SPEC.md, "Tables": a staging_events an older version left with first_name and last_name swapped is
    never loaded into; the DDL transaction rolls back before any view, COPY or INSERT."""

    def swapped_names(sql: str) -> Rows | None:
        if sql != layout_query("public"):
            return None
        rows = catalogue_as_created()
        first, last = (rows.index(r) for r in rows if r[0] == "staging_events" and r[1] in {"first_name", "last_name"})
        rows[first], rows[last] = rows[last], rows[first]
        return rows

    log = StatementLog(swapped_names)
    result = run_graph(
        {"warehouse": recording_warehouse(log), "source": local_source(tmp_path)},
        partition=DAY,
        selection=["staging_events"],
        raise_on_error=False,
    )
    assert_failed_at_once(
        result, "staging_events", "table public.staging_events is not laid out as", "first_name is column 6, expected 3"
    )
    assert log.sql[-1] == "ROLLBACK"
    assert not [s for s in log.sql if s.startswith(("COPY", "DELETE", "INSERT", "CREATE OR REPLACE"))]


def test_a_configured_schema_is_created_and_is_the_search_path(s3_source: SparkifySource) -> None:
    log = StatementLog()
    warehouse = recording_warehouse(log, schema_name="sparkify")
    warehouse.create_tables()
    assert log.sql[:3] == ['SET search_path TO "sparkify"', "BEGIN", 'CREATE SCHEMA IF NOT EXISTS "sparkify"']
    assert warehouse.qualified_name("songplays") == "sparkify.songplays"


def test_the_stand_in_refuses_what_redshift_connector_refuses() -> None:
    import redshift_connector

    cursor = RecordingConnection(StatementLog()).cursor()
    with pytest.raises(redshift_connector.ProgrammingError, match="multiple commands"):
        cursor.execute("DELETE FROM songs; DELETE FROM artists")
    cursor.execute("SELECT ';' AS semicolon_in_a_string")
    cursor.execute("DELETE FROM songs")
    with pytest.raises(redshift_connector.ProgrammingError, match="no result set"):
        cursor.fetchall()


def test_a_day_file_that_is_not_json_text_stops_the_load_before_any_copy(
    s3_source: SparkifySource, aws_test_env: str
) -> None:
    """SPEC.md: a file that is not UTF-8 JSON text fails its partition naming the file, and the partition keeps
    its previous rows: on Redshift its first bytes (one ranged GET) are looked at before COPY reads it."""
    client = boto3.client("s3", region_name="us-west-2", endpoint_url=aws_test_env)
    key = f"{PREFIX}/log_data/2018/11/2018-11-04-events.json"
    good = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    client.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(good))
    log = StatementLog()
    try:
        with pytest.raises(NotJsonText, match=r"2018-11-04-events\.json.*gzip"):
            recording_warehouse(log).load_staging_events(s3_source, DayWindow.parse("2018-11-04"), print)
    finally:
        client.put_object(Bucket=BUCKET, Key=key, Body=good)
    assert log.sql == []


# -- COPY's REGION: the bucket's -------------------------------------------------------------------------------
def source_in_region(endpoint: str, real_sample: Any, bucket: str, region: str | None) -> SparkifySource:
    """The jsonpaths file and one day of the real sample in a moto bucket created in ``region`` (None: us-east-1,
    where S3 takes no LocationConstraint and answers none)."""
    home = {None: "us-east-1", "EU": "us-east-1"}.get(region, region)  # the endpoint moto accepts the create at
    client = boto3.client("s3", region_name=home, endpoint_url=endpoint)
    if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        config = {"CreateBucketConfiguration": {"LocationConstraint": region}} if region else {}
        client.create_bucket(Bucket=bucket, **config)
    for key in (JSONPATHS_KEY, event_key(WINDOW.start_day)):
        client.put_object(Bucket=bucket, Key=f"{PREFIX}/{key}", Body=(real_sample / key).read_bytes())
    return SparkifySource(uri=f"s3://{bucket}/{PREFIX}", s3=S3Resource(region_name="us-west-2", endpoint_url=endpoint))


@pytest.mark.parametrize(
    ("bucket", "created_in", "region"),
    [
        ("sparkify-frankfurt", "eu-central-1", "eu-central-1"),
        ("sparkify-virginia", None, "us-east-1"),  # no LocationConstraint
        ("sparkify-legacy-eu", "EU", "eu-west-1"),  # S3's old name for Ireland
    ],
)
def test_copy_region_is_asked_of_s3_once_a_run_when_not_set(
    aws_test_env: str, real_sample: Any, monkeypatch: pytest.MonkeyPatch, bucket: str, created_in: str, region: str
) -> None:
    """Without REGION, COPY assumes the warehouse's region; the old default us-west-2 gave S3's 301 for a bucket
    anywhere else."""
    source = source_in_region(aws_test_env, real_sample, bucket, created_in)
    asked: list[str] = []
    ask = SparkifySource.bucket_region
    monkeypatch.setattr(SparkifySource, "bucket_region", lambda self: asked.append(self.bucket) or ask(self))
    log, said = StatementLog(), []
    warehouse = recording_warehouse(log)
    warehouse.load_staging_events(source, WINDOW, said.append)
    warehouse.load_staging_songs(source, said.append)
    assert [f"REGION '{region}'" in copy for copy in copies(log)] == [True, True]
    assert asked == [bucket]  # once for both loads
    assert f"s3://{bucket} is in {region} (asked S3: REDSHIFT_COPY_REGION is not set)" in said


def test_a_set_copy_region_is_sent_without_asking_s3(
    s3_source: SparkifySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SparkifySource, "bucket_region", lambda self: pytest.fail("S3 was asked"))
    log = StatementLog()
    recording_warehouse(log, copy_region="ap-southeast-2").load_staging_events(s3_source, WINDOW, print)
    assert "REGION 'ap-southeast-2'" in copies(log)[0]


def test_a_copy_that_s3_redirects_fails_at_once_naming_the_buckets_region_and_the_setting(
    aws_test_env: str, real_sample: Any
) -> None:
    """S3's 301 PermanentRedirect means COPY's REGION is not the bucket's: a setting to fix, not a retry."""
    source = source_in_region(aws_test_env, real_sample, "sparkify-frankfurt", "eu-central-1")
    log = copy_fails_with(
        "S3ServiceException:The bucket you are attempting to access must be addressed using the specified "
        "endpoint. Please send all future requests to this endpoint.,Status 301,Error PermanentRedirect,Rid X"
    )
    result = run_graph(
        {"warehouse": recording_warehouse(log, copy_region="us-west-2"), "source": source},
        partition=DAY,
        selection=["staging_events"],
        raise_on_error=False,
    )
    assert_failed_at_once(
        result,
        "staging_events",
        "S3 answered 301 PermanentRedirect",
        "REDSHIFT_COPY_REGION=us-west-2",
        "bucket sparkify-frankfurt is in eu-central-1",
    )
    assert log.sql[-1] == "ROLLBACK"


# -- concurrent runs: LOCK first, error 1023 retried -----------------------------------------------------------
def test_every_writing_transaction_first_locks_the_tables_it_uses_in_one_order(s3_source: SparkifySource) -> None:
    """AWS: lock every table the transaction uses (read-only ones too) at its start, in the same order
    everywhere. The tables are found here by sqlglot, independently of how the engine finds them. A first run
    (the views' transaction included, which reads no table's rows: it locks view_definitions, its record)."""
    recorded = StatementLog()
    warehouse = recording_warehouse(recorded, views_exist=False)
    assert run_graph({"warehouse": warehouse, "source": s3_source}, partition=DAY).success
    views = {"stg_events", "stg_songs", "stg_song_choice", "stg_plays"}
    create_views = [s for s in recorded.sql if s.startswith("CREATE OR REPLACE VIEW")]
    reads = {parse_redshift(s).this.name: _tables_named(parse_redshift(s).expression) for s in create_views}
    assert set(reads) == views
    temporary = {"staging_events_copy", "staging_songs_copy", "load_errors"}
    writing = [t for t in transactions(recorded.sql) if not all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in t)]
    assert writing
    for transaction in writing:
        lock, *rest = transaction
        assert lock.startswith("LOCK "), rest[0][:80]
        locked = re.findall(r'"([a-z_]+)"', lock)
        assert locked == sorted(locked), lock
        named: set[str] = set()
        for statement in rest:
            if statement.startswith("LOCK "):
                pytest.fail("a second LOCK in one transaction")
            if statement.startswith(("COPY", "CREATE OR REPLACE FUNCTION", "CREATE OR REPLACE VIEW")):
                continue  # COPY's target is a temp table; a function's or a view's DDL reads no table's rows
            named |= _tables_named(parse_redshift(statement))
        needed = set()
        for name in named - temporary:
            needed |= _behind_views(name, reads)
        assert needed <= set(locked), (lock, needed - set(locked))


def _tables_named(tree: exp.Expression) -> set[str]:
    """The tables a statement names, without its CTEs, the catalogue and the system views."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    return {
        table.name
        for table in tree.find_all(exp.Table)
        if table.name not in ctes and table.db != "information_schema" and not table.name.startswith(("sys_", "stl_"))
    }


def _behind_views(name: str, reads: dict[str, set[str]]) -> set[str]:
    if name not in reads:
        return {name}
    return set().union(*(_behind_views(inner, reads) for inner in reads[name]))


def serialization_conflict_once(at: str) -> StatementLog:
    """A log whose server aborts the first statement starting with ``at`` with error 1023, as redshift-connector
    reports it (the fields of the server's ErrorResponse), and runs it the next time."""
    failed: list[str] = []
    error = redshift_connector.ProgrammingError(
        {
            "S": "ERROR",
            "C": "XX000",
            "M": "1023",
            "D": "Serializable isolation violation on table - 100507, transactions forming the cycle are: 1, 2",
        }
    )

    def fail(sql: str) -> BaseException | None:
        if sql.startswith(at) and not failed:
            failed.append(sql)
            return error
        return None

    return StatementLog(fail=fail)


@pytest.mark.parametrize(("step", "statement"), [("staging_events", "COPY"), ("songplays", "DELETE FROM songplays")])
def test_a_serializable_isolation_violation_is_retried(s3_source: SparkifySource, step: str, statement: str) -> None:
    """AWS's first advice for error 1023 is to run the transaction again: the step is retried (after 2 s) and
    succeeds; the aborted transaction was rolled back first."""
    log = serialization_conflict_once(statement)
    result = run_graph({"warehouse": recording_warehouse(log), "source": s3_source}, partition=DAY, selection=[step])
    assert result.success
    (retry,) = step_events(result, "STEP_UP_FOR_RETRY", step)
    assert "1023" in str(retry.event_specific_data.error.cause or retry.event_specific_data.error)
    first = log.sql.index(next(s for s in log.sql if s.startswith(statement)))
    assert log.sql[first + 1] == "ROLLBACK"
    assert [s for s in log.sql if s.startswith(statement)] == [log.sql[first]] * 2


def test_the_engine_names_error_1023_a_serialization_conflict(s3_source: SparkifySource) -> None:
    with pytest.raises(SerializationConflict, match=r"locked: .*staging_events.*error 1023"):
        recording_warehouse(serialization_conflict_once("COPY")).load_staging_events(s3_source, WINDOW, print)


# -- where the raw lines can come from ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "single_az"),
    [({"MultiAZ": "Disabled"}, True), ({"MultiAZ": "false"}, True), ({"MultiAZ": "Enabled"}, False), ({}, False)],
)
def test_only_a_cluster_that_says_it_is_single_az_counts_as_one(answer: dict[str, str], single_az: bool) -> None:
    assert says_single_az(answer) is single_az


def test_a_cluster_aws_says_nothing_of_reads_sys_only(monkeypatch: pytest.MonkeyPatch, moto_s3_endpoint: str) -> None:
    """moto's DescribeClusters has no MultiAZ field: not positively single-AZ. Serverless is never asked."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_REDSHIFT", moto_s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    redshift = boto3.client("redshift", region_name="us-west-2", endpoint_url=moto_s3_endpoint)
    redshift.create_cluster(
        ClusterIdentifier="sparkify-single-az-probe",
        NodeType="ra3.large",
        MasterUsername="sparkify",
        MasterUserPassword="Sparkify-Probe-1",
        NumberOfNodes=2,
    )
    try:
        login = {"user": "loader", "aws_region": "us-west-2", "iam_role_arn": ROLE_ARN}
        cluster = RedshiftWarehouse(cluster_identifier="sparkify-single-az-probe", **login)
        assert "MultiAZ" not in redshift.describe_clusters(ClusterIdentifier="sparkify-single-az-probe")["Clusters"][0]
        assert cluster.single_az_cluster() is False
        assert RedshiftWarehouse(cluster_identifier="no-such-cluster", **login).single_az_cluster() is False
        workgroup = RedshiftWarehouse(workgroup="sparkify", aws_region="us-west-2", iam_role_arn=ROLE_ARN)
        monkeypatch.setattr(boto3, "client", lambda *a, **k: pytest.fail("AWS was asked about a workgroup"))
        assert workgroup.single_az_cluster() is False
    finally:
        redshift.delete_cluster(ClusterIdentifier="sparkify-single-az-probe", SkipFinalClusterSnapshot=True)


def test_the_catalogues_play_days_are_read_after_its_lock_and_bound_into_its_rematch() -> None:
    """song_catalogue.sql re-matches the days of the plays already built: they are read in its own transaction,
    after the LOCK (a play another run builds meanwhile waits for the lock, and is then matched against the new
    catalogue by its own step), and the re-match names them."""
    days = {"MIN": date(2018, 11, 3), "MAX": date(2018, 11, 5)}

    def answer(sql: str) -> Rows | None:
        extreme = re.fullmatch(r"SELECT (MIN|MAX)\(CAST\(start_time AS DATE\)\) FROM songplays", sql)
        return [(days[extreme.group(1)],)] if extreme else None

    log = StatementLog(answer)
    recording_warehouse(log).run_script(read_sql(STAR_SQL / "song_catalogue.sql"), {}, PLAY_DAYS)
    (transaction,) = transactions(log.sql)
    lock, first, last, *rest = transaction
    assert lock.startswith("LOCK ") and '"songplays"' in lock
    assert (first, last) == tuple(PLAY_DAYS.values())
    (rematch,) = [statement for statement in rest if "FROM stg_plays AS matched" in statement]
    assert "matched.partition_day BETWEEN DATE '2018-11-03' AND DATE '2018-11-05'" in rematch


def test_a_script_run_in_slices_is_one_transaction_under_one_lock() -> None:
    """`run_script`'s slices (songplays built a few days per statement): each slice's statements, in order, after
    the one LOCK of the one transaction, so no other run sees a window half rebuilt."""
    first, second = DayWindow(date(2018, 11, 1), date(2018, 11, 2)), DayWindow(date(2018, 11, 3), date(2018, 11, 3))
    log = StatementLog()
    script = read_sql(STAR_SQL / "songplays.sql")
    recording_warehouse(log).run_script(script, {}, slices=[first.sql_params, second.sql_params])
    (transaction,) = transactions(log.sql)
    lock, *rest = transaction
    assert lock.startswith("LOCK ") and '"songplays"' in lock
    assert rest == [*statements(script, first.sql_params), *statements(script, second.sql_params)]
