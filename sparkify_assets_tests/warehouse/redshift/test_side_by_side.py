"""Where Redshift's SQL cannot be DuckDB's, the two versions sit side by side; the same tests run on both.

Two things are written per engine: epoch milliseconds to a timestamp (each engine's `create_functions.sql`,
which the engine-neutral cleaning views call for start_time) and the record rules applied after COPY
(`stage_events.sql`). sqlglot translates the Redshift version to DuckDB, which then runs both on the same
data: the real sample for the views, hand-made records for the rules.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from sparkify_assets.partitions import DayWindow
from sparkify_assets.warehouse.duckdb.engine import SQL as DUCKDB_SQL
from sparkify_assets.warehouse.engine import STG_VIEWS_SQL
from sparkify_assets.warehouse.redshift.engine import SQL as REDSHIFT_SQL
from sparkify_assets.warehouse.redshift.engine import varchar_widths
from sparkify_assets.warehouse.sql import Identifier, read_sql, statements
from sparkify_assets_tests.conftest import duckdb_warehouse, local_source

DAY = "2018-11-05"
#: What copy_events.sql is rendered with here (only its CREATE TEMPORARY TABLE runs, on DuckDB).
COPY_PARAMS: dict[str, Any] = {
    "copy_table": Identifier("staging_events_copy"),
    "object_uri": "s3://b/k",
    "iam_role_arn": "arn:aws:iam::123456789012:role/x",
    "copy_region": "us-west-2",
    "jsonpaths_uri": "s3://b/p",
    "max_errors": 0,
}


def redshift_on_duckdb(path: Path, params: dict[str, Any] | None = None) -> list[str]:
    return [
        sqlglot.transpile(statement, read="redshift", write="duckdb")[0]
        for statement in statements(read_sql(path), params or {})
    ]


def redshift_function_on_duckdb(name: str, function: str = "f_epoch_ms_to_timestamp") -> str:
    """Redshift's SQL UDF ``function`` (create_functions.sql) as a DuckDB macro ``name``: its one SELECT's
    expression, translated, with the argument ``$1`` as the macro's parameter ``ms``."""
    (statement,) = [
        s for s in statements(read_sql(REDSHIFT_SQL / "create_functions.sql")) if f"FUNCTION {function}(" in s
    ]
    create = sqlglot.parse_one(statement, read="redshift")
    assert isinstance(create, exp.Create) and isinstance(create.expression, exp.Heredoc)
    body = sqlglot.parse_one(create.expression.name.replace("$1", "ms"), read="redshift")
    assert isinstance(body, exp.Select) and not body.args.get("from")  # what a SQL UDF may hold
    (expression,) = body.expressions
    return f"CREATE OR REPLACE MACRO {name}(ms) AS {expression.sql(dialect='duckdb')}"


def test_the_cleaning_views_agree_row_for_row_on_the_real_sample(real_sample: Path, tmp_path: Path) -> None:
    """SPEC.md: start_time is ts with milliseconds kept (UTC); blanks become NULL; year 0 becomes NULL. The
    views are one engine-neutral file: as Redshift reads it, with Redshift's f_epoch_ms_to_timestamp, they
    give what DuckDB's views give."""
    warehouse = duckdb_warehouse(tmp_path / "w.duckdb")
    warehouse.create_tables()
    source = local_source(real_sample)
    warehouse.load_staging_events(source, DayWindow.parse(DAY), lambda message: None)
    warehouse.load_staging_songs(source, lambda message: None)
    with warehouse.connect() as connection:
        connection.execute(redshift_function_on_duckdb("redshift_f_epoch_ms_to_timestamp"))
        calls = 0
        for statement in redshift_on_duckdb(STG_VIEWS_SQL):
            # The views as Redshift runs them: calling Redshift's function, not DuckDB's (sqlglot upper-cases
            # the name of a function it does not know).
            as_redshift, n = re.subn(
                r"\bf_epoch_ms_to_timestamp\(", "redshift_f_epoch_ms_to_timestamp(", statement, flags=re.I
            )
            connection.execute(as_redshift.replace("VIEW stg_", "VIEW redshift_stg_"))
            calls += n
        assert calls == 1
        for view in ("stg_events", "stg_songs"):
            rows = connection.execute(f"SELECT COUNT(*) FROM {view}").fetchone()[0]
            assert rows > 0
            for left, right in [(view, f"redshift_{view}"), (f"redshift_{view}", view)]:
                differ = connection.execute(f"SELECT COUNT(*) FROM (FROM {left} EXCEPT ALL FROM {right})").fetchone()
                assert differ == (0,), f"{left} has rows {right} lacks"
        (with_millis,) = connection.execute(
            "SELECT COUNT(*) FROM redshift_stg_events WHERE EXTRACT(millisecond FROM start_time) % 1000 <> 0"
        ).fetchone()
        assert with_millis > 0


def test_days_since_epoch_agree_on_both_engines() -> None:
    """stg_plays numbers each day's plays from f_days_since_epoch (songplay_id is stable, SPEC.md): Redshift's
    DATEDIFF(day, ...) and DuckDB's date_diff give the same BIGINT on every day of the partitions' years and
    around the epoch."""
    connection = duckdb.connect()
    for statement in statements(read_sql(DUCKDB_SQL / "create_functions.sql")):
        connection.execute(statement)
    connection.execute(redshift_function_on_duckdb("redshift_f_days_since_epoch", "f_days_since_epoch"))
    days = "range(DATE '1960-01-01', DATE '2040-01-01', INTERVAL 1 DAY)"
    differ = connection.execute(
        f"SELECT COUNT(*), COUNT(*) FILTER (WHERE f_days_since_epoch(CAST(d AS DATE)) "
        f"IS DISTINCT FROM redshift_f_days_since_epoch(CAST(d AS DATE))) FROM (SELECT range AS d FROM {days})"
    ).fetchone()
    assert differ is not None and differ[0] > 29000 and differ[1] == 0
    days_2018_11_05 = (date(2018, 11, 5) - date(1970, 1, 1)).days
    assert connection.execute("SELECT f_days_since_epoch(DATE '2018-11-05')").fetchone() == (days_2018_11_05,)


# userId, ts and length as they appear in the JSON, and as COPY puts them in staging_events_copy (JSON values
# into a VARCHAR column as their text; a missing field as NULL; "NaN" or "Infinity" into a DOUBLE PRECISION
# column as that float, which the SQL rules then reject).
RECORDS: list[tuple[dict[str, Any], str | None, int | None, float | None]] = [
    ({"userId": "39"}, "39", 1541381242796, None),
    ({"userId": " 39 "}, " 39 ", 1541381242796, None),
    ({"userId": ""}, "", 1541381242796, None),
    ({"userId": 39}, "39", 1541381242796, None),
    ({"userId": "-2147483648"}, "-2147483648", 1541381242796, None),
    ({"userId": "abc"}, "abc", 1541381242796, None),
    ({"userId": "1.5"}, "1.5", 1541381242796, None),
    ({"userId": 1.5}, "1.5", 1541381242796, None),
    ({"userId": "2147483648"}, "2147483648", 1541381242796, None),
    ({"userId": "99999999999"}, "99999999999", 1541381242796, None),
    ({"ts": None}, "7", None, None),
    ({"ts": "missing"}, "7", None, None),
    ({"length": "NaN"}, "7", 1541381242796, float("nan")),
    ({"length": "-Infinity"}, "7", 1541381242796, float("-inf")),
    ({"length": "236.5"}, "7", 1541381242796, 236.5),
]


def _reason_kind(reason: str | None) -> str | None:
    return None if reason is None else reason.split(", got")[0]


def _duckdb_reasons(tmp_path: Path) -> list[str | None]:
    root = tmp_path / "source"
    (root / "log_data" / "2018" / "11").mkdir(parents=True)
    lines = []
    for change, *_ in RECORDS:
        record = {"ts": 1541381242796, "userId": "7", "page": "NextSong", **change}
        if record["ts"] == "missing":
            del record["ts"]
        lines.append(json.dumps(record))
    (root / "log_data" / "2018" / "11" / f"{DAY}-events.json").write_text("\n".join(lines))
    warehouse = duckdb_warehouse(tmp_path / "w.duckdb", max_reject_percent=100)  # a file of bad records
    warehouse.create_tables()
    warehouse.load_staging_events(local_source(root), DayWindow.parse(DAY), lambda message: None)
    rejected = dict(warehouse.query("SELECT line_number, reason FROM staging_rejects"))
    return [_reason_kind(rejected.get(line)) for line in range(1, len(RECORDS) + 1)]


def redshift_copy_table() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding staging_events_copy as copy_events.sql creates it, with a line number."""
    connection = duckdb.connect()
    (create_copy, _copy) = redshift_on_duckdb(REDSHIFT_SQL / "copy_events.sql", COPY_PARAMS)
    connection.execute(create_copy)
    connection.execute("ALTER TABLE staging_events_copy ADD COLUMN line BIGINT")
    return connection


def redshift_stage_reasons(connection: duckdb.DuckDBPyConnection) -> list[str | None]:
    """stage_events.sql's UPDATE over the copy table, as Redshift runs it; the reasons by line."""
    params = {"source_key": "k", "partition_day": None, **varchar_widths("staging_events")}
    (update, _insert) = redshift_on_duckdb(REDSHIFT_SQL / "stage_events.sql", params)
    # Redshift's OCTET_LENGTH of a VARCHAR is its length in bytes, which DuckDB calls strlen.
    connection.execute(update.replace("OCTET_LENGTH(", "strlen("))
    return [
        reason for (reason,) in connection.execute("SELECT reason FROM staging_events_copy ORDER BY line").fetchall()
    ]


def _redshift_reasons() -> list[str | None]:
    connection = redshift_copy_table()
    for line, (_, user_id, ts, length) in enumerate(RECORDS, start=1):
        row = [line, ts, user_id, length]
        connection.execute("INSERT INTO staging_events_copy (line, ts, user_id, length) VALUES (?, ?, ?, ?)", row)
    return [_reason_kind(reason) for reason in redshift_stage_reasons(connection)]


def test_the_record_rules_reject_the_same_records_for_the_same_reasons(tmp_path: Path) -> None:
    """SPEC.md, "Bad records": ts is required; a non-empty userId must be an integer; NaN or Infinity, bare
    or quoted, is never stored."""
    duckdb_reasons = _duckdb_reasons(tmp_path)
    assert duckdb_reasons == _redshift_reasons()
    assert duckdb_reasons.count(None) == 6  # "39", " 39 ", "", 39, "-2147483648", "236.5"
    assert duckdb_reasons.count("length must be a finite number") == 2
    assert "missing required field ts" in duckdb_reasons


FIELDS = ("artist", "firstName", "userAgent")


def test_a_value_longer_than_its_column_is_rejected_for_the_same_reason_on_both_engines(tmp_path: Path) -> None:
    """Issue 13, VARCHAR widths: Redshift refuses a value longer than its column, counted in UTF-8 bytes; DuckDB
    stores any length. Both reject the record, with the same reason naming the field, column and width (widths
    from create_tables.sql); a value of exactly the width in bytes loads on both."""
    widths = varchar_widths("staging_events")
    artist, agent, first = widths["artist_width"], widths["user_agent_width"], widths["first_name_width"]
    assert isinstance(artist, int) and isinstance(agent, int) and isinstance(first, int)
    changes: list[dict[str, Any]] = [
        {"artist": "é" * artist},  # artist characters, twice as many bytes
        {"artist": "é" * (artist // 2)},  # exactly the width in bytes
        {"userAgent": "x" * (agent + 1)},
        {"firstName": "ß" * (first // 2 + 1), "userAgent": "x" * (agent + 1)},  # the first field named wins
        {"artist": "Nirvana"},
    ]
    records = [{"ts": 1541381242796, "userId": "7", "page": "NextSong", **change} for change in changes]

    root = tmp_path / "source"
    (root / "log_data" / "2018" / "11").mkdir(parents=True)
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    (root / "log_data" / "2018" / "11" / f"{DAY}-events.json").write_text("\n".join(lines), encoding="utf-8")
    warehouse = duckdb_warehouse(tmp_path / "w.duckdb", max_reject_percent=100)
    warehouse.create_tables()
    warehouse.load_staging_events(local_source(root), DayWindow.parse(DAY), lambda message: None)
    rejected = dict(warehouse.query("SELECT line_number, reason FROM staging_rejects"))
    duckdb_reasons = [rejected.get(line) for line in range(1, len(records) + 1)]

    # Redshift: the copy table as copy_events.sql creates it, holding the values as COPY puts them there.
    connection = redshift_copy_table()
    for line, record in enumerate(records, start=1):
        connection.execute(
            "INSERT INTO staging_events_copy (line, ts, user_id, page, artist, first_name, user_agent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [line, record["ts"], record["userId"], record["page"], *(record.get(f) for f in FIELDS)],
        )
    redshift_reasons = redshift_stage_reasons(connection)

    assert duckdb_reasons == redshift_reasons
    assert (
        duckdb_reasons[0] == f"artist is {2 * artist} bytes long, longer than staging_events.artist VARCHAR({artist})"
    )
    assert duckdb_reasons[1] is None and duckdb_reasons[4] is None
    assert duckdb_reasons[3] is not None and duckdb_reasons[3].startswith("firstName is ")
