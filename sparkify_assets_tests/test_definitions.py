"""The code location loads, every job resolves, the schedule targets yesterday's partition."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import AssetKey, build_schedule_context

from sparkify_assets import defs
from sparkify_assets.checks.definitions import CHECKS


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


def test_daily_schedule_requests_the_previous_day_at_two() -> None:
    schedule = defs.resolve_schedule_def("daily_events_job_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    context = build_schedule_context(scheduled_execution_time=datetime(2018, 11, 6, 2, 0, tzinfo=UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2018-11-05"


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
