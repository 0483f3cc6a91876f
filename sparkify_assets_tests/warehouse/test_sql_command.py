"""`sparkify sql`: every statement a run would send, in order, from the real engine code; no login needed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import sqlglot
from sqlglot import exp

from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.settings import FLAG_SETTINGS, SETTINGS
from sparkify_assets_tests.conftest import resources_for, run_graph
from sparkify_assets_tests.warehouse.conftest import ROLE_ARN, SOURCE_URI, recording_warehouse, transactions
from sparkify_cli.main import main
from sparkify_cli.sql_plan import record_run

SPARKIFY = Path(sys.executable).with_name("sparkify")
ACCEPTANCE = {"REDSHIFT_IAM_ROLE_ARN": "arn:aws:iam::123456789012:role/x", "SPARKIFY_SOURCE": "s3://udacity-dend"}
TABLES = ("songplays", "users", "songs", "artists", "time", "staging_events", "staging_songs")


def statements_of(plan: str, dialect: str) -> list[exp.Expression]:
    parsed = sqlglot.parse(plan, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    assert parsed and all(e is not None and (not isinstance(e, exp.Command) or _is_lock(e)) for e in parsed)
    return parsed  # type: ignore[return-value]


def _is_lock(command: exp.Expression) -> bool:
    """Redshift's LOCK, which sqlglot keeps as a command: its one form, a list of quoted table names."""
    return bool(re.fullmatch(r'LOCK "[a-z_]+"(?:, "[a-z_]+")*', command.sql(dialect="redshift")))


def plain(plan: str) -> list[str]:
    """The printed statements, comments dropped, whitespace collapsed."""
    text = "\n".join(line for line in plan.splitlines() if not line.startswith("--"))
    return [re.sub(r"\s+", " ", s).strip() for s in re.split(r";[ \t]*(?:\n|$)", text) if s.strip()]


def plan_2018_11_05_for_redshift(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The acceptance command, `sparkify sql --engine redshift --partition 2018-11-05`, run with ``env``."""
    done = subprocess.run(
        [str(SPARKIFY), "sql", "--engine", "redshift", "--partition", "2018-11-05"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_the_plan_names_the_source_buckets_region_when_s3_answers(tmp_path: Path, moto_s3_endpoint: str) -> None:
    """Issue 13: COPY's REGION is the bucket's, asked of S3 (GetBucketLocation) as a run asks it, not us-west-2."""
    bucket = "sparkify-plan-in-frankfurt"
    client = boto3.client(
        "s3",
        region_name="eu-central-1",
        endpoint_url=moto_s3_endpoint,
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDSHIFT_", "AWS_", "SPARKIFY_"))}
    env.update(
        ACCEPTANCE,
        SPARKIFY_SOURCE=f"s3://{bucket}",
        AWS_ENDPOINT_URL_S3=moto_s3_endpoint,
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
        HOME=str(tmp_path),
    )
    done = plan_2018_11_05_for_redshift(env)
    copies = [s for s in plain(done.stdout) if s.startswith("COPY ")]
    assert len(copies) == 2 and all("REGION 'eu-central-1'" in copy for copy in copies), copies
    assert f"the region of bucket {bucket}, asked of S3 (GetBucketLocation) once a run: eu-central-1" in done.stdout


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in [*SETTINGS.values(), *FLAG_SETTINGS.values(), "SPARKIFY_WAREHOUSE", "SPARKIFY_SOURCE"]:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_the_acceptance_command_prints_valid_redshift_without_any_login(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDSHIFT_", "AWS_", "SPARKIFY_"))}
    env.update(ACCEPTANCE, HOME=str(tmp_path), AWS_SECRET_ACCESS_KEY="aws-secret-must-not-print")
    done = plan_2018_11_05_for_redshift(env)
    statements_of(done.stdout, "redshift")
    printed = plain(done.stdout)

    for table in TABLES:
        (ddl,) = {s for s in printed if s.startswith(f"CREATE TABLE IF NOT EXISTS {table} (")}
        assert "DISTSTYLE" in ddl and "SORTKEY" in ddl, table
    (events,) = [s for s in printed if s.startswith("COPY staging_events_copy")]
    assert "FROM 's3://udacity-dend/log_data/2018/11/2018-11-05-events.json'" in events
    assert "FORMAT AS JSON 's3://udacity-dend/log_json_path.json'" in events
    assert "IAM_ROLE 'arn:aws:iam::123456789012:role/x'" in events
    # No REDSHIFT_COPY_REGION and no credential: the plan says the run asks S3 for the bucket's region.
    assert "REGION 'bucket-region-asked-of-s3-at-run-time'" in events
    assert "-- COPY REGION: REDSHIFT_COPY_REGION is not set: the region of bucket udacity-dend" in done.stdout
    assert "FROM sys_load_error_detail WHERE query_id = pg_last_copy_id()" in " ".join(printed)
    (songs,) = [s for s in printed if s.startswith("COPY staging_songs_copy")]
    assert "FROM 's3://udacity-dend/song_data/'" in songs
    assert any(s.startswith("INSERT INTO staging_events (") and "FROM staging_events_copy" in s for s in printed)

    (songplays,) = [t for t in transactions(printed) if any(s.startswith("DELETE FROM songplays") for s in t)]
    assert [s.split(" (")[0] for s in songplays] == [
        'LOCK "song_catalogue", "songplays", "staging_events"',
        "DELETE FROM songplays WHERE start_time >= DATE '2018-11-05' AND start_time < DATE '2018-11-06'",
        "INSERT INTO songplays",
    ]
    assert "TRUNCATE" not in done.stdout.upper()
    assert "aws-secret-must-not-print" not in done.stdout + done.stderr
    # Issue 13: a daily run replaces no view (the lock would block readers), and no DATE is subtracted.
    assert not [s for s in printed if s.startswith(("CREATE OR REPLACE VIEW", "CREATE OR REPLACE FUNCTION"))]
    assert "-- A daily run:" in done.stdout
    assert not re.search(r"-\s*DATE\s*'", done.stdout)


def test_no_credential_is_printed_even_when_every_login_setting_is_set(
    no_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = {"REDSHIFT_PASSWORD": "rs-password-9f8e7d", "AWS_SECRET_ACCESS_KEY": "aws-secret-6c5b4a"}
    for name, value in {**ACCEPTANCE, **secrets, "REDSHIFT_HOST": "h.example.com", "REDSHIFT_USER": "u"}.items():
        no_settings.setenv(name, value)
    assert main(["sql", "--engine", "redshift", "--partition", "2018-11-05"]) == 0
    out, err = capsys.readouterr()
    assert "COPY staging_events_copy" in out
    for secret in secrets.values():
        assert secret not in out + err


def test_the_redshift_plan_is_exactly_what_a_run_on_real_data_sends(
    no_settings: pytest.MonkeyPatch, s3_source: SparkifySource
) -> None:
    """The plan reads no source; a run reads moto's S3. They send the same statements, in the same order."""
    no_settings.setenv("REDSHIFT_IAM_ROLE_ARN", ROLE_ARN)
    no_settings.setenv("SPARKIFY_SOURCE", SOURCE_URI)
    # The plan asks S3 nothing: given the bucket's region, it sends what the run, which asks S3, sends.
    no_settings.setenv("REDSHIFT_COPY_REGION", "us-west-2")
    planned = [s.sql for s in record_run("redshift", "2018-11-05") if s.kind == "sql"]
    log = StatementLog()
    assert run_graph({"warehouse": recording_warehouse(log), "source": s3_source}, partition="2018-11-05").success
    assert planned == log.sql


def test_the_duckdb_plan_is_exactly_what_a_duckdb_run_on_real_data_sends(
    no_settings: pytest.MonkeyPatch, real_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--first-run``: what the first run on a new warehouse sends (it creates the views); without it, what
    the next run sends (the views are there: it creates none)."""
    from sparkify_assets.warehouse.duckdb.recording import RecordingDuckDBWarehouse

    def without_clock(statements: list[str]) -> list[str]:
        """Without what the warehouse's contents decide: loaded_at is when the load ran; the days song_catalogue
        re-matches are those of the plays already built (the plan's warehouse holds none; the second run's, the
        first run's)."""
        statements = [re.sub(r"TIMESTAMP '[0-9: .-]+'", "TIMESTAMP '<now>'", s) for s in statements]
        days = r"matched\.partition_day BETWEEN (?:NULL|DATE '[0-9-]+') AND (?:NULL|DATE '[0-9-]+')"
        return [re.sub(days, "matched.partition_day BETWEEN <play days>", s) for s in statements]

    for first_run in (["--first-run"], []):
        assert main(["sql", "--engine", "duckdb", "--partition", "2018-11-05", *first_run]) == 0
        printed = capsys.readouterr().out
        statements_of(printed, "duckdb")

        log = StatementLog()
        resources = resources_for(real_sample, tmp_path / "w.duckdb")
        resources["warehouse"] = RecordingDuckDBWarehouse(path=str(tmp_path / "w.duckdb"), recorder=log)
        assert run_graph(resources, partition="2018-11-05").success
        ran = [re.sub(r"\s+", " ", s.sql).strip() for s in log.statements if s.kind == "sql"]

        assert without_clock(plain(printed)) == without_clock(ran)
        assert any(s.startswith("CREATE OR REPLACE VIEW stg_plays") for s in ran) == bool(first_run)


def test_a_missing_setting_is_named_without_a_traceback(
    no_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_settings.setenv("SPARKIFY_SOURCE", "s3://udacity-dend")
    assert main(["sql", "--engine", "redshift", "--partition", "2018-11-05"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("sparkify sql: REDSHIFT_IAM_ROLE_ARN is not set") and "Traceback" not in err


def test_a_day_outside_the_partitions_is_refused(
    no_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "--engine", "duckdb", "--partition", "2017-01-01"]) == 2
    assert "2017-01-01 is not a partition" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sql", "--partition", "2018-11-31"])
