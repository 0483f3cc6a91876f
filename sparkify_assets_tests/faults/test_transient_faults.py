"""Transient faults: S3 errors and throttling are retried with backoff (boto3's standard retries, then the
staging assets' Dagster `RetryPolicy`), and a fault that lasts fails cleanly, naming the key, with nothing
written. A dropped warehouse connection fails the step without partial writes, and a retry repeats it safely.

S3 faults come from `s3_proxy.FaultyS3Proxy` in front of moto's S3 server; the run uses the deployment's
own source resource (`resources.source_resource`), pointed at the proxy by AWS_ENDPOINT_URL_S3.
SPARKIFY_S3_MAX_ATTEMPTS reaches botocore as `retries.max_attempts`, which counts the retries after the
first request: 1 means two requests, the default 5 up to six.

A dropped connection: on DuckDB `hooks.FaultPlan(action="drop")` breaks the engine's connection at a point of
a transaction; on Redshift the recording connection raises where a real one would.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from dagster import ExecuteInProcessResult, build_resources
from dagster_aws.s3 import S3Resource

from sparkify_assets.partitions import DayWindow
from sparkify_assets.resources import source_resource
from sparkify_assets.sources.layout import event_key
from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph, step_events, upload_tree
from sparkify_assets_tests.faults.conftest import (
    DAY,
    SPEC_ASSETS,
    SPEC_DAY_FIGURES,
    DayStates,
    snapshot,
    window_counts,
)
from sparkify_assets_tests.faults.figures import add
from sparkify_assets_tests.faults.hooks import KILL_POINTS, FaultPlan, watched_connect
from sparkify_assets_tests.faults.s3_proxy import Fault, FaultyS3Proxy

pytestmark = pytest.mark.faults

BUCKET, PREFIX = "sparkify-faults", "udacity"
DAY_KEY = event_key(DayWindow.parse(DAY).start_day)
DAY_URI = f"s3://{BUCKET}/{PREFIX}/{DAY_KEY}"


def failure_text(result: ExecuteInProcessResult) -> str:
    """Every step failure's message with its causes, as the UI shows them."""
    return "\n".join(e.event_specific_data.error.to_string() for e in step_events(result, "STEP_FAILURE"))


# -- S3 ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_day(moto_s3_endpoint: str, real_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real sample's 2018-11-05 and three of its song files on moto's S3."""
    root = tmp_path_factory.mktemp("s3-faults")
    (root / DAY_KEY).parent.mkdir(parents=True)
    (root / DAY_KEY).write_bytes((real_sample / DAY_KEY).read_bytes())
    for song in sorted((real_sample / "song_data").rglob("*.json"))[:3]:
        (root / song.relative_to(real_sample)).parent.mkdir(parents=True, exist_ok=True)
        (root / song.relative_to(real_sample)).write_bytes(song.read_bytes())
    client = boto3.client(
        "s3", endpoint_url=moto_s3_endpoint, region_name="us-west-2",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    upload_tree(client, root, BUCKET, PREFIX)
    return f"s3://{BUCKET}/{PREFIX}"


@pytest.fixture
def proxy(aws_test_env: str, s3_day: str, monkeypatch: pytest.MonkeyPatch) -> FaultyS3Proxy:
    with FaultyS3Proxy(upstream=aws_test_env) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", running.url)
        monkeypatch.setenv("SPARKIFY_SOURCE", s3_day)
        yield running


def run_staging(database: Path, raise_on_error: bool = True) -> ExecuteInProcessResult:
    """staging_events for the day, with the deployment's source resource (settings from the environment)."""
    resources = {"source": source_resource(), "warehouse": duckdb_warehouse(database)}
    return run_graph(resources, partition=DAY, selection=["staging_events"], raise_on_error=raise_on_error)


def staged(database: Path) -> int:
    return duckdb_warehouse(database).query("SELECT COUNT(*) FROM staging_events")[0][0]


def test_s3_throttling_is_absorbed_by_boto3_retries_with_backoff(proxy: FaultyS3Proxy, tmp_path: Path) -> None:
    # S3 asks for at least 300 ms between attempts (x-amz-retry-after); boto3's backoff must honour it.
    proxy.faults.append(Fault(DAY_KEY, status=503, code="SlowDown", times=2, retry_after_ms=300))
    result = run_staging(tmp_path / "w.duckdb")
    gets = proxy.requests_for(DAY_KEY)
    add("s3 faults injected", 2)
    assert [g.status for g in gets] == [503, 503, 200]  # two throttled answers, then the object
    assert all(later.at - earlier.at >= 0.25 for earlier, later in pairwise(gets)), "retried without backoff"
    assert not step_events(result, "STEP_UP_FOR_RETRY")  # boto3's own retries were enough
    assert staged(tmp_path / "w.duckdb") == SPEC_DAY_FIGURES["staging_events"]


def test_an_exhausted_boto3_retry_is_retried_by_the_step(
    proxy: FaultyS3Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARKIFY_S3_MAX_ATTEMPTS", "1")
    proxy.faults.append(Fault(DAY_KEY, status=500, code="InternalError", times=2))
    result = run_staging(tmp_path / "w.duckdb")
    add("s3 faults injected", 2)
    assert [g.status for g in proxy.requests_for(DAY_KEY)] == [500, 500, 200]
    assert len(step_events(result, "STEP_UP_FOR_RETRY", "staging_events")) == 1
    assert staged(tmp_path / "w.duckdb") == SPEC_DAY_FIGURES["staging_events"]


def test_a_lasting_s3_fault_fails_cleanly_naming_the_key_and_writes_nothing(
    proxy: FaultyS3Proxy, day_states: DayStates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = day_states.copy_before(tmp_path / "w.duckdb")
    monkeypatch.setenv("SPARKIFY_S3_MAX_ATTEMPTS", "1")
    proxy.faults.append(Fault(DAY_KEY, status=503, code="SlowDown", times=None))
    result = run_staging(database, raise_on_error=False)
    gets = [g for g in proxy.requests_for(DAY_KEY) if g.status == 503]
    add("s3 faults injected", len(gets))
    assert not result.success
    assert len(step_events(result, "STEP_UP_FOR_RETRY", "staging_events")) == 2  # RetryPolicy(max_retries=2)
    assert len(gets) == 3 * 2  # three step attempts of two requests each (one boto3 retry)
    assert DAY_URI in failure_text(result)
    assert "SlowDown" in failure_text(result)
    assert snapshot(database) == day_states.before_rows


def test_a_missing_object_fails_at_once_without_retries(proxy: FaultyS3Proxy, tmp_path: Path) -> None:
    missing = "log_data/2018/11/2018-11-06-events.json"
    resources = {"source": source_resource(), "warehouse": duckdb_warehouse(tmp_path / "w.duckdb")}
    result = run_graph(resources, partition="2018-11-06", selection=["staging_events"], raise_on_error=False)
    assert not result.success
    assert not step_events(result, "STEP_UP_FOR_RETRY")
    assert len(proxy.requests_for(missing)) == 1  # a 404 is not retried by boto3 either
    assert f"missing source file: s3://{BUCKET}/{PREFIX}/{missing}" in failure_text(result)


def test_throttled_listing_of_song_files_is_retried(proxy: FaultyS3Proxy) -> None:
    proxy.faults.append(Fault("list-type=2", status=503, code="SlowDown", times=1))
    with build_resources({"source": source_resource()}) as resources:
        keys = resources.source.song_keys()
    add("s3 faults injected")
    assert [s.status for s in proxy.requests_for("list-type=2")] == [503, 200]
    assert len(keys) == 3


# -- a dropped warehouse connection -----------------------------------------------------------------------
def drop_at(monkeypatch: pytest.MonkeyPatch, point: str, times: int) -> FaultPlan:
    plan = FaultPlan(KILL_POINTS[point], action="drop", times=times)
    monkeypatch.setattr(duckdb, "connect", watched_connect(plan, duckdb.connect))
    return plan


def test_a_connection_dropped_during_staging_is_retried_and_loads_once(
    day_states: DayStates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropped just after the day's rows were deleted: the attempt rolls back, the retry loads the day once."""
    database = day_states.copy_before(tmp_path / "w.duckdb")
    plan = drop_at(monkeypatch, "staging-cleared", times=1)
    result = run_graph(resources_for(day_states.current_source, database), partition=DAY, selection=SPEC_ASSETS)
    assert plan.hits == 1
    retried = step_events(result, "STEP_UP_FOR_RETRY", "staging_events")
    assert len(retried) == 1
    assert (
        "the warehouse connection was dropped (injected at staging-cleared)"
        in retried[0].event_specific_data.error.to_string()
    )
    monkeypatch.undo()
    assert snapshot(database) == day_states.after_rows
    assert window_counts(database) == SPEC_DAY_FIGURES


def test_a_connection_dropped_during_the_users_upsert_fails_the_step_and_a_rerun_repeats_it(
    day_states: DayStates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = day_states.copy_before(tmp_path / "w.duckdb")
    drop_at(monkeypatch, "users-upsert", times=1)
    result = run_graph(
        resources_for(day_states.current_source, database), partition=DAY, selection=SPEC_ASSETS, raise_on_error=False
    )
    assert not result.success and "dropped" in failure_text(result)
    monkeypatch.undo()
    state, before, after = snapshot(database), day_states.before_rows, day_states.after_rows
    assert state["users"] == before["users"] and state["songplays"] == before["songplays"]
    assert state["staging_events"] == after["staging_events"]
    assert run_graph(resources_for(day_states.current_source, database), partition=DAY, selection=SPEC_ASSETS).success
    assert snapshot(database) == after


def test_a_dropped_redshift_connection_rolls_back_and_the_retry_commits_once() -> None:
    """Redshift, from the statements sent (the recording connection of `warehouse/redshift/recording.py`): the
    connection drops in the middle of the day's COPY transaction; that transaction never commits, and the
    step's retry replaces the day in one committed transaction."""
    recording = pytest.importorskip("sparkify_assets.warehouse.redshift.recording")
    import redshift_connector

    from sparkify_assets.warehouse.recording import StatementLog
    from sparkify_cli.sql_plan import PlannedSource

    dropped: list[str] = []

    def answer(sql: str) -> list[tuple[Any, ...]] | None:
        if "pg_last_copy_count" in sql and not dropped:
            dropped.append(sql)
            raise redshift_connector.OperationalError("connection dropped (injected)")
        return None

    log = StatementLog(answer)
    warehouse = recording.RecordingRedshiftWarehouse(
        iam_role_arn="arn:aws:iam::123456789012:role/sparkify-copy", recorder=log
    )
    source = PlannedSource(uri=f"s3://{BUCKET}/{PREFIX}", s3=S3Resource(region_name="us-west-2"))
    result = run_graph({"warehouse": warehouse, "source": source}, partition=DAY, selection=["staging_events"])
    assert dropped and len(step_events(result, "STEP_UP_FOR_RETRY", "staging_events")) == 1

    loads, current = [], None
    for statement in (" ".join(s.split()) for s in log.sql):
        if statement == "BEGIN":
            current = []
        elif statement in {"COMMIT", "ROLLBACK"} and current is not None:
            if any(s.startswith("DELETE FROM staging_events") for s in current):
                loads.append((current, statement))
            current = None
        elif current is not None:
            current.append(statement)
    assert [end for _, end in loads] == ["ROLLBACK", "COMMIT"]  # the dropped attempt, then the retry
    first, retried = loads[0][0], loads[1][0]
    assert not any(s.startswith("INSERT INTO staging_events") for s in first)  # dropped before staging
    assert sum(s.startswith("INSERT INTO staging_events") for s in retried) == 1
