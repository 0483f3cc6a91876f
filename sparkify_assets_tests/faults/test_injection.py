"""Injection: every value a user or operator controls is validated where it enters, and reaches SQL only as a
strictly validated literal or a quoted identifier (DEVELOPERS.md: "No SQL assembled from fragments").

Entry points tried with hostile values (quotes, semicolons, comments, ``../``, very long values, NUL):
the partition key (DayWindow, a run, `sparkify sql --partition`), SPARKIFY_SOURCE, SPARKIFY_DUCKDB_PATH,
`warehouse.sql.literal` / `Identifier` / `render`, and the Redshift settings that shape SQL (REDSHIFT_SCHEMA,
REDSHIFT_IAM_ROLE_ARN, REDSHIFT_COPY_REGION). Each is refused with a message naming what was refused.
Values that are legal but look hostile (a folder called ``it's; --``) travel as data and work.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterUnknownPartitionError
from dagster_aws.s3 import S3Resource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse
from sparkify_assets.warehouse.sql import Identifier, literal, render, statements
from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph
from sparkify_assets_tests.faults.figures import add
from sparkify_cli import main as cli

pytestmark = pytest.mark.faults

HOSTILE = [
    "x'; DROP TABLE users; --",
    'x"; DROP TABLE users; --',
    "a;b",
    "../../etc/passwd",
    "a\x00b",
    "line\nbreak",
    "k" * 5000,
]


# -- partition keys -----------------------------------------------------------------------------------------
HOSTILE_KEYS = [
    "2018-11-05'; DROP TABLE users; --",
    "2018-11-05;",
    "../2018-11-05",
    "2018-11-05/../../x",
    "2018-11-05\x00",
    " 2018-11-05",
    "2018-11-5",
    "20181105",
    "2018-11-05T00:00:00",
    "9" * 5000,
]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=range(len(HOSTILE_KEYS)))
def test_a_hostile_partition_key_is_refused_everywhere(key: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(ValueError, match=r"^partition key .* is not a day \(YYYY-MM-DD\)$") as refused:
        DayWindow.parse(key)
    assert len(str(refused.value)) < 120  # a 5000-character key is not echoed back whole
    with pytest.raises(DagsterUnknownPartitionError, match="Could not find a partition with key"):
        run_graph(resources_for(tmp_path, tmp_path / "w.duckdb"), partition=key, selection=["staging_events"])
    with pytest.raises(SystemExit) as exited:
        cli.main(["sql", "--engine", "duckdb", "--partition", key])
    assert exited.value.code == 2 and "is not a day (YYYY-MM-DD)" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()
    add("hostile values refused", 3)


# -- SPARKIFY_SOURCE ----------------------------------------------------------------------------------------
HOSTILE_SOURCES = [
    "s3://sparkify-raw/x'; DROP TABLE users; --",
    "s3://sparkify-raw/a;b",
    "s3://sparkify-raw/a b",
    's3://sparkify-raw/"quoted"',
    "s3://sparkify-raw/../other-bucket",
    "s3://sparkify-raw/a/../../b",
    "s3://sparkify-raw/a\x00b",
    "s3://sparkify-raw/" + "k" * 2000,
    "s3://Sparkify_Raw",
    "s3://x",
    "s3://",
    "http://evil.example/data",
    "file:///etc",
    "/tmp/source\x00/x",
    "/tmp/source\n/x",
]


@pytest.mark.parametrize("uri", HOSTILE_SOURCES, ids=range(len(HOSTILE_SOURCES)))
def test_a_hostile_source_uri_is_refused_naming_the_setting(uri: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SparkifySource(uri=uri, s3=S3Resource())
    message = str(refused.value)
    assert "SPARKIFY_SOURCE=" in message
    assert len(message) < 1200
    add("hostile values refused")


@pytest.mark.parametrize(
    "uri", ["s3://udacity-dend", "s3://sparkify-test/raw/v1", "s3://b-1.example/pre_fix/year=2018/", "s3://abc/a+b.c-d"]
)
def test_ordinary_source_uris_are_accepted(uri: str) -> None:
    assert SparkifySource(uri=uri, s3=S3Resource()).uri == uri


# -- SPARKIFY_DUCKDB_PATH ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", [":memory:", ":memory:shared", "md:sparkify", "motherduck:sparkify", "s3://bucket/w.duckdb",
             "https://example.com/w.duckdb", "w\x00.duckdb", "w\n.duckdb", "", "   ", "/tmp/" + "w" * 5000],
)  # fmt: skip
def test_a_warehouse_path_duckdb_would_not_read_as_a_file_is_refused(path: str) -> None:
    with pytest.raises(ValidationError, match="SPARKIFY_DUCKDB_PATH="):
        DuckDBWarehouse(path=path)
    add("hostile values refused")


def test_paths_that_only_look_hostile_travel_as_data(tmp_path: Path) -> None:
    """A source folder and a warehouse file named with quotes, semicolons, ``--`` and ``..``: they are paths,
    never SQL, so they work, and the file created is exactly the one named."""
    odd = tmp_path / "it's; DROP TABLE users; --" / ".." / "it's; DROP TABLE users; --"
    source = odd / "source"
    key = source / "log_data/2018/11/2018-11-05-events.json"
    key.parent.mkdir(parents=True)
    record = {"ts": 1541376000001, "userId": "7", "page": "NextSong", "artist": "x'; DROP TABLE songs; --",
              "song": ":start_day", "level": "free"}  # fmt: skip
    key.write_text(json.dumps(record) + "\n{'not': json}\n")
    (source / "song_data").mkdir()
    database = odd / "warehouse 'x'; --.duckdb"
    assert run_graph(resources_for(source, database), partition="2018-11-05").success
    assert database.exists()
    warehouse = duckdb_warehouse(database)
    assert warehouse.query("SELECT artist, song FROM staging_events") == [(record["artist"], ":start_day")]
    assert warehouse.query("SELECT COUNT(*) FROM songs") == [(0,)]  # still there, untouched
    assert warehouse.query("SELECT source_key, raw_text FROM staging_rejects") == [
        ("log_data/2018/11/2018-11-05-events.json", "{'not': json}")
    ]


# -- literals, identifiers, parameters -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        *(v for v in HOSTILE if not v.startswith("..")),
        "a\\b",
        "caf\u00e9",
        "a`b",
        "a{b}",
        "$$; DROP",
        float("nan"),
        float("inf"),
    ],
)
def test_a_hostile_literal_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"^refusing to put .* into SQL: "):
        literal(value)  # type: ignore[arg-type]
    add("hostile values refused")


@pytest.mark.parametrize("name", [*HOSTILE, "Users", "1table", "", "a" * 200, 'users"--', "sch.ema"])
def test_a_hostile_identifier_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a valid identifier"):
        Identifier(name)
    add("hostile values refused")


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(codec="utf-8") | st.sampled_from(list("';:-/*()[]$\\\"\n")), max_size=40))
def test_a_literal_either_is_refused_or_reads_back_as_exactly_the_value(value: str) -> None:
    add("fuzz cases tried")
    try:
        rendered = statements("SELECT :value AS v", {"value": value})
    except ValueError:
        return
    assert len(rendered) == 1
    assert duckdb.sql(rendered[0]).fetchall() == [(value,)]


def test_a_bound_value_is_never_read_as_a_parameter_or_a_comment() -> None:
    sql = "SELECT :a AS a, :b AS b\n-- :a in a comment\n"
    assert render(sql, {"a": ":b", "b": "-- x"}).strip() == "SELECT ':b' AS a, '-- x' AS b"
    assert duckdb.sql(render(sql, {"a": "it's", "b": 5})).fetchall() == [("it's", 5)]
    assert literal(Identifier("users")) == '"users"'


# -- Redshift settings that shape SQL ---------------------------------------------------------------------------
REDSHIFT_HOSTILE = {
    "schema_name": ("REDSHIFT_SCHEMA", ["public; DROP SCHEMA public", 'a"b', "Public", "a" * 200, "x\x00"]),
    "iam_role_arn": (
        "REDSHIFT_IAM_ROLE_ARN",
        ["arn:aws:iam::123456789012:role/x' CREDENTIALS 'aws_access_key_id=AKIA", "arn:aws:iam::1:role/x", "x;y"],
    ),
    "copy_region": ("REDSHIFT_COPY_REGION", ["us-west-2'; --", "us west 2", "../us-west-2"]),
}


@pytest.mark.parametrize(
    ("setting", "variable", "value"),
    [(s, v, value) for s, (v, values) in REDSHIFT_HOSTILE.items() for value in values],
    ids=lambda x: x if isinstance(x, str) and len(x) < 30 and x.isidentifier() else None,
)
def test_a_hostile_redshift_setting_is_refused_naming_the_variable(setting: str, variable: str, value: str) -> None:
    engine = pytest.importorskip("sparkify_assets.warehouse.redshift.engine")
    settings_ = {"iam_role_arn": "arn:aws:iam::123456789012:role/sparkify-copy", setting: value}
    with pytest.raises(ValueError, match=rf"^{re.escape(variable)}\b"):
        engine.RedshiftWarehouse(**settings_).validate_sql_settings()
    add("hostile values refused")
