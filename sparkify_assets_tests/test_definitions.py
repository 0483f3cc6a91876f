"""The code location loads, every job resolves, the schedule targets yesterday's partition and never a day
outside the partitions, which SPARKIFY_PARTITIONS_START/END bound; one code-location name everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime

import pytest
import yaml
from dagster import AssetKey, DefaultScheduleStatus, DefaultSensorStatus, build_schedule_context

from sparkify_assets import partitions
from sparkify_assets.checks.definitions import CHECKS
from sparkify_assets.definitions import defs
from sparkify_assets_tests.conftest import REPO_ROOT


def test_definitions_load_and_every_job_resolves() -> None:
    defs.validate_loadable(defs)
    for job_name in ("daily_events_job", "song_catalog_job", "__ASSET_JOB"):
        assert defs.resolve_job_def(job_name) is not None


def test_assets_are_grouped_by_layer() -> None:
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {
        "staging_events": "staging",
        "staging_songs": "staging",
        "songs": "star",
        "artists": "star",
        "users": "star",
        "time": "star",
        "songplays": "star",
        "daily_user_activity": "analytics",
        "daily_catalogue_coverage": "analytics",
        "daily_artist_plays": "analytics",
        "daily_engagement": "analytics",
    }


def test_events_derived_assets_are_daily_with_single_run_backfills() -> None:
    graph = defs.resolve_asset_graph()
    for name in ("staging_events", "users", "time", "songplays"):
        node = graph.get(AssetKey(name))
        assert node.partitions_def is not None and node.partitions_def.get_first_partition_key() == "2018-11-01"
        assert node.backfill_policy is not None and node.backfill_policy.max_partitions_per_run is None
    assert graph.get(AssetKey("songs")).partitions_def is None


def test_every_check_is_registered_under_its_name() -> None:
    graph = defs.resolve_asset_graph()
    registered = {key.name for key in graph.asset_check_keys}
    assert registered == {spec.name for spec in CHECKS}


def tick_at(when: datetime):
    """One evaluation of the daily schedule, scheduled at ``when``."""
    schedule = defs.resolve_schedule_def("daily_events_job_schedule")
    context = build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
    return schedule.evaluate_tick(context)


def test_daily_schedule_requests_the_previous_day_at_two() -> None:
    schedule = defs.resolve_schedule_def("daily_events_job_schedule")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    (request,) = tick_at(datetime(2018, 11, 6, 2, 0, tzinfo=UTC)).run_requests
    assert request.partition_key == "2018-11-05"
    assert request.tags["dagster/partition"] == "2018-11-05"


def test_the_schedule_skips_saying_why_when_yesterday_is_after_the_last_partition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(partitions, "LAST_DAY", date(2018, 11, 30))
    assert [r.partition_key for r in tick_at(datetime(2018, 12, 1, 2, 0, tzinfo=UTC)).run_requests] == ["2018-11-30"]
    result = tick_at(datetime(2018, 12, 2, 2, 0, tzinfo=UTC))
    assert not result.run_requests
    assert result.skip_message == (
        "nothing to run for yesterday: 2018-12-01 is after the last partition, 2018-11-30 (SPARKIFY_PARTITIONS_END)"
    )


def test_the_schedule_skips_a_day_before_the_first_partition() -> None:
    result = tick_at(datetime(2018, 11, 1, 2, 0, tzinfo=UTC))
    assert not result.run_requests
    assert "2018-10-31 is before the first partition, 2018-11-01" in result.skip_message


def settings_in_a_fresh_process(code: str, **environ: str) -> subprocess.CompletedProcess:
    """Partitions and automation are read when the definitions load: check them in a process of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_PARTITIONS_", "SPARKIFY_AUTOMATION"))}
    return subprocess.run(
        [sys.executable, "-c", code], env={**env, **environ}, capture_output=True, text=True, timeout=120, check=False
    )


def test_partitions_run_from_start_to_end_inclusive_or_to_yesterday() -> None:
    code = (
        "from sparkify_assets.partitions import daily_partitions as p\n"
        "keys = p.get_partition_keys()\n"
        "print(keys[0], keys[-1], len(keys))"
    )
    bounded = settings_in_a_fresh_process(
        code, SPARKIFY_PARTITIONS_START="2018-11-01", SPARKIFY_PARTITIONS_END="2018-11-30"
    )
    assert bounded.stdout.split() == ["2018-11-01", "2018-11-30", "30"], bounded.stderr[-2000:]
    # Unset, or set empty: up to yesterday (UTC), as in production.
    yesterday = date.fromordinal(datetime.now(UTC).date().toordinal() - 1).isoformat()
    for end in ({}, {"SPARKIFY_PARTITIONS_END": ""}):
        moving = settings_in_a_fresh_process(code, **end)
        assert moving.stdout.split()[:2] == ["2018-11-01", yesterday], moving.stderr[-2000:]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SPARKIFY_PARTITIONS_END": "2018-13-01"}, "SPARKIFY_PARTITIONS_END='2018-13-01' is not a date (YYYY-MM-DD)"),
        (
            {"SPARKIFY_PARTITIONS_START": "2018-11-10", "SPARKIFY_PARTITIONS_END": "2018-11-09"},
            "SPARKIFY_PARTITIONS_END=2018-11-09 is before SPARKIFY_PARTITIONS_START=2018-11-10",
        ),
        ({"SPARKIFY_AUTOMATION": "both"}, "SPARKIFY_AUTOMATION='both' is not one of off, schedule, sensor"),
    ],
)
def test_a_bad_setting_is_named(environ: dict[str, str], message: str) -> None:
    done = settings_in_a_fresh_process("import sparkify_assets.definitions", **environ)
    assert done.returncode != 0 and message in done.stderr


@pytest.mark.parametrize(
    ("automation", "schedule", "sensor"),
    [
        ("", DefaultScheduleStatus.STOPPED, DefaultSensorStatus.STOPPED),
        ("schedule", DefaultScheduleStatus.RUNNING, DefaultSensorStatus.STOPPED),
        ("sensor", DefaultScheduleStatus.STOPPED, DefaultSensorStatus.RUNNING),
    ],
)
def test_sparkify_automation_starts_at_most_one_of_schedule_and_sensor(
    automation: str, schedule: DefaultScheduleStatus, sensor: DefaultSensorStatus
) -> None:
    code = (
        "from sparkify_assets.definitions import defs\n"
        "print(defs.resolve_schedule_def('daily_events_job_schedule').default_status.value,"
        " defs.resolve_sensor_def('event_file_arrival_sensor').default_status.value)"
    )
    done = settings_in_a_fresh_process(code, SPARKIFY_AUTOMATION=automation)
    assert done.stdout.split() == [schedule.value, sensor.value], done.stderr[-2000:]


def test_one_code_location_name_everywhere() -> None:
    """pyproject.toml (`dagster dev` without arguments), workspace.yaml (`make dev`) and `-m sparkify_assets`
    (Dagster names that location after the module) agree, and both files load `sparkify_assets.definitions`."""
    tool = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    (entry,) = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())["load_from"]
    module = entry["python_module"]
    assert tool == {"module_name": "sparkify_assets.definitions", "code_location_name": "sparkify_assets"}
    assert module == {"module_name": "sparkify_assets.definitions", "location_name": "sparkify_assets"}
    assert "-w workspace.yaml" in (REPO_ROOT / "Makefile").read_text()


def test_daily_assets_declare_when_they_are_overdue() -> None:
    """Every daily-partitioned asset has the daily freshness policy; the song catalogue has none."""
    from sparkify_assets.definitions import DAILY_FRESHNESS

    graph = defs.resolve_asset_graph()
    policies = {key.to_user_string(): graph.get(key).freshness_policy for key in graph.get_all_asset_keys()}
    daily = {name for name in policies if graph.get(AssetKey(name)).partitions_def is not None}
    assert daily == {
        "staging_events",
        "users",
        "time",
        "songplays",
        "daily_user_activity",
        "daily_catalogue_coverage",
        "daily_artist_plays",
        "daily_engagement",
    }
    assert {name for name, policy in policies.items() if policy == DAILY_FRESHNESS} == daily
    assert {name: policies[name] for name in ("staging_songs", "songs", "artists")} == dict.fromkeys(
        ("staging_songs", "songs", "artists")
    )
    assert DAILY_FRESHNESS.fail_window.to_timedelta() > DAILY_FRESHNESS.warn_window.to_timedelta()
