"""The code location: assets, checks, jobs, schedule, sensor, and the resources of the chosen deployment."""

from __future__ import annotations

from datetime import timedelta

from dagster import (
    AssetSpec,
    Definitions,
    FreshnessPolicy,
    apply_freshness_policy,
    map_asset_specs,
)

from sparkify_assets.checks.definitions import asset_checks
from sparkify_assets.graph import PIPELINE_ASSETS
from sparkify_assets.partitions import daily_partitions
from sparkify_assets.resources import RESOURCES_BY_WAREHOUSE
from sparkify_assets.run_workers import in_process_executor
from sparkify_assets.schedules import daily_events_job, daily_events_schedule, song_catalog_job
from sparkify_assets.sensors import event_file_arrival_sensor
from sparkify_assets.settings import warehouse_engine

#: A daily asset is overdue when its last materialization is older than this. The schedule runs at
#: 02:00 UTC and a day takes minutes: WARN from about 03:00 the next day, FAIL from 06:00 (28 hours).
DAILY_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=28), warn_window=timedelta(hours=25))


def with_daily_freshness(spec: AssetSpec) -> AssetSpec:
    """Every daily-partitioned asset declares when it is overdue; the song catalogue has no cadence."""
    return apply_freshness_policy(spec, DAILY_FRESHNESS) if spec.partitions_def == daily_partitions else spec


ALL_ASSETS = map_asset_specs(with_daily_freshness, PIPELINE_ASSETS)

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=asset_checks,
    jobs=[daily_events_job, song_catalog_job],
    schedules=[daily_events_schedule],
    sensors=[event_file_arrival_sensor],
    resources=RESOURCES_BY_WAREHOUSE[warehouse_engine()](),
    # A DuckDB file has one writer, and the steps are SQL the warehouse parallelises itself:
    # running them one after another in one process is both safe and fastest. (Dagster's in-process
    # executor, which also records the run's process so that a run whose process died is failed: run_workers.py.)
    executor=in_process_executor,
)
