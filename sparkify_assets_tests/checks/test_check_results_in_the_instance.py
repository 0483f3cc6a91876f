"""Each check result lands on its own partition, in the Dagster instance the UI reads.

The acceptance of a ranged run: after `dagster asset materialize --select '*' --partition-range` over the
real sample's month with a fresh DAGSTER_HOME, the instance holds no PLANNED check execution, and every
(check, partition) pair of the daily assets has a SUCCEEDED latest execution with that day's own figures;
each check of an unpartitioned asset has one result without a partition. Then what failed runs leave.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from dagster import AssetCheckKey, AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.instance.ref import InstanceRef
from dagster._core.loader import LoadingContextForTest
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
    AssetCheckExecutionResolvedStatus,
)

from sparkify_assets.checks.definitions import CHECKS, PARTITIONED_ASSETS
from sparkify_assets_tests.conftest import MonthRun, duckdb_warehouse, new_dagster_home, resources_for, run_graph

MONTH = [(date(2018, 11, 1) + timedelta(days=n)).isoformat() for n in range(30)]
DAILY = [spec for spec in CHECKS if spec.asset in PARTITIONED_ASSETS]
UNPARTITIONED = [spec for spec in CHECKS if spec.asset not in PARTITIONED_ASSETS]


def key_of(spec) -> AssetCheckKey:
    return AssetCheckKey(AssetKey(spec.asset), spec.name)


def history(instance: DagsterInstance, spec) -> list[AssetCheckExecutionRecord]:
    """Every execution of a check the instance holds, of every partition and none."""
    return list(instance.event_log_storage.get_asset_check_execution_history(key_of(spec), limit=10_000))


def latest(instance: DagsterInstance, partition: str | None) -> dict[str, AssetCheckExecutionRecord]:
    """Each check's latest execution on one partition (None: without a partition), by check name."""
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [key_of(spec) for spec in CHECKS], partition_filter=PartitionKeyFilter(key=partition)
    )
    return {key.name: record for key, record in records.items()}


def resolved(instance: DagsterInstance, record: AssetCheckExecutionRecord) -> AssetCheckExecutionResolvedStatus:
    """The status the UI shows for an execution (Dagster resolves a PLANNED row by its run's status)."""
    return asyncio.run(record.resolve_status(LoadingContextForTest(instance)))


def new_instance(home: Path) -> DagsterInstance:
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(new_dagster_home(home))))


@pytest.fixture(scope="module")
def month_instance(real_month_run: MonthRun) -> Iterator[DagsterInstance]:
    """The issue's acceptance command, as a user runs it (`make run`: the CLI, a fresh DAGSTER_HOME, the real
    month), and the instance it leaves."""
    assert (real_month_run.env["SPARKIFY_PARTITIONS_START"], real_month_run.env["SPARKIFY_PARTITIONS_END"]) == (
        MONTH[0],
        MONTH[-1],
    )
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(real_month_run.home)))
    yield instance
    instance.dispose()


@pytest.mark.slow
def test_no_check_execution_stays_planned(month_instance: DagsterInstance) -> None:
    for spec in CHECKS:
        planned = [r.partition for r in history(month_instance, spec) if r.status.value == "PLANNED"]
        assert planned == [], f"{spec.name} still PLANNED on {planned[:3]}..."


@pytest.mark.slow
def test_every_check_of_a_daily_asset_passed_on_every_partition(month_instance: DagsterInstance) -> None:
    for day in MONTH:
        records = latest(month_instance, day)
        for spec in DAILY:
            record = records.get(spec.name)
            assert record is not None, f"{spec.name} has no execution on {day}"
            assert record.status == AssetCheckExecutionRecordStatus.SUCCEEDED, (spec.name, day, record.status)
            assert record.evaluation.partition == day
            assert record.evaluation.metadata["violations"].value == 0
            assert record.evaluation.target_materialization_data is not None  # the day's materialization
    for spec in DAILY:  # one execution per check and partition: a ranged run plans each check once per day
        by_partition = [record.partition for record in history(month_instance, spec)]
        assert sorted(by_partition) == MONTH, spec.name


@pytest.mark.slow
def test_a_partition_s_results_carry_that_day_s_figures(month_instance: DagsterInstance) -> None:
    """SPEC.md: 2018-11-05 alone has 356 songplays (= its NextSong events); the month has 6,820."""
    details = {day: latest(month_instance, day)["songplays_row_count"].evaluation.metadata for day in MONTH}
    assert details["2018-11-05"]["detail"].value == "356 songplays, 356 NextSong events"
    assert sum(int(metadata["detail"].value.split()[0]) for metadata in details.values()) == 6820


@pytest.mark.slow
def test_an_unpartitioned_asset_s_check_has_one_result(month_instance: DagsterInstance) -> None:
    """One result without a partition, and it is the latest. (Dagster 1.13 also plans these checks once per
    partition of the run; the step closes those planned executions with the same result: see `_build`.)"""
    records = latest(month_instance, None)
    for spec in UNPARTITIONED:
        unpartitioned = [record for record in history(month_instance, spec) if record.partition is None]
        assert len(unpartitioned) == 1, spec.name
        assert records[spec.name].status == AssetCheckExecutionRecordStatus.SUCCEEDED
        everything = month_instance.event_log_storage.get_latest_asset_check_execution_by_key([key_of(spec)])
        assert everything[key_of(spec)].partition is None, "the UI's latest execution is the one result"


@pytest.mark.slow
def test_each_partition_s_metadata_is_that_day_s(month_instance: DagsterInstance) -> None:
    """SPEC.md: 2018-11-05 alone has 408 staging events, 356 songplays and time rows, 29 users."""

    def metadata(asset: str, day: str) -> dict:
        (record,) = month_instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[day]), limit=1
        ).records
        return {key: value.value for key, value in record.asset_materialization.metadata.items()}

    for asset, rows in {"staging_events": 408, "songplays": 356, "time": 356, "users": 29}.items():
        day = metadata(asset, "2018-11-05")
        assert day["dagster/row_count"] == rows, asset
        assert day["run_window"] == "2018-11-01...2018-11-30"
        assert "partition_window" not in day
    assert metadata("staging_events", "2018-11-05")["rows_loaded"] == 408
    for asset, rows in {"staging_events": 8056, "songplays": 6820, "time": 6813}.items():
        assert sum(metadata(asset, day)["dagster/row_count"] for day in MONTH) == rows, asset


def test_a_failed_blocking_check_fails_only_its_days_and_stops_downstream(
    generated_sample: Path, tmp_path: Path
) -> None:
    """A user deleted, then songplays re-run for three days: the orphan check fails on the days whose plays
    name that user, passes on the others, every result is recorded, and the run fails before analytics."""
    days = ("2018-11-01", "2018-11-03")
    with new_instance(tmp_path / "home") as instance:
        resources = resources_for(generated_sample, tmp_path / "w.duckdb")
        assert run_graph(resources, partition_range=days, instance=instance).success
        warehouse = duckdb_warehouse(tmp_path / "w.duckdb")
        one_day_users = (
            "SELECT MIN(user_id) FROM (SELECT user_id FROM songplays WHERE user_id IS NOT NULL GROUP BY user_id "
            "HAVING COUNT(DISTINCT CAST(start_time AS DATE)) = 1) AS users_of_one_day"
        )
        (user,) = warehouse.query(one_day_users)[0]
        with warehouse.connect() as connection:
            connection.execute("DELETE FROM users WHERE user_id = ?", [user])
        plays_of_user = "SELECT DISTINCT CAST(start_time AS DATE) FROM songplays WHERE user_id = :user"
        naming = {row[0].isoformat() for row in warehouse.query(plays_of_user, {"user": int(user)})}
        assert len(naming) == 1
        result = run_graph(
            resources,
            partition_range=days,
            selection=["songplays", "daily_engagement"],
            raise_on_error=False,
            instance=instance,
        )
        assert not result.success
        assert not result.asset_materializations_for_node("daily_engagement"), "downstream of a failed check"
        run_id = result.run_id
        for day in ("2018-11-01", "2018-11-02", "2018-11-03"):
            records = latest(instance, day)
            for spec in CHECKS:
                if spec.asset != "songplays":
                    continue
                record = records[spec.name]
                assert record.run_id == run_id
                failed = spec.name == "songplays_user_id_orphans" and day in naming
                assert record.status.value == ("FAILED" if failed else "SUCCEEDED"), (spec.name, day)
        failed = latest(instance, sorted(naming)[0])["songplays_user_id_orphans"].evaluation
        assert failed.metadata["detail"].value == f"e.g. {user}" and failed.blocking


def test_the_checks_of_steps_a_failure_skipped_resolve_as_execution_failed(
    generated_sample: Path, tmp_path: Path
) -> None:
    """Dagster's own answer for a step that never ran: its planned check executions stay PLANNED in the
    instance, and resolve to EXECUTION_FAILED once the run has failed (the UI shows "Execution failed",
    not "in progress" or "skipped"). The checks of the steps that ran are recorded as usual."""
    source = tmp_path / "source"
    shutil.copytree(generated_sample, source)
    (missing,) = source.glob("log_data/*/*/2018-11-02-events.json")
    missing.unlink()
    with new_instance(tmp_path / "home") as instance:
        result = run_graph(
            resources_for(source, tmp_path / "w.duckdb"),
            partition_range=("2018-11-01", "2018-11-03"),
            raise_on_error=False,
            instance=instance,
        )
        assert not result.success
        assert instance.get_run_by_id(result.run_id).status == DagsterRunStatus.FAILURE
        statuses: dict[str, set] = {}
        for spec in CHECKS:
            for record in history(instance, spec):
                statuses.setdefault(spec.name, set()).add(resolved(instance, record))
        for spec in CHECKS:  # the song catalogue's steps ran; every daily step was skipped
            ran = spec.asset not in PARTITIONED_ASSETS
            expected = "SUCCEEDED" if ran else "EXECUTION_FAILED"
            assert {status.value for status in statuses[spec.name]} == {expected}, spec.name
