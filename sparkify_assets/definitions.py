"""The code location: assets, checks, jobs, schedule, and the resources of the chosen deployment."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from sparkify_assets.checks.definitions import asset_checks
from sparkify_assets.resources import RESOURCES_BY_WAREHOUSE
from sparkify_assets.schedules import daily_events_job, daily_events_schedule, song_catalog_job
from sparkify_assets.settings import warehouse_engine
from sparkify_assets.staging.assets import staging_events, staging_songs
from sparkify_assets.star.assets import artists, songplays, songs, time, users

ALL_ASSETS = [staging_events, staging_songs, artists, songs, users, time, songplays]

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=asset_checks,
    jobs=[daily_events_job, song_catalog_job],
    schedules=[daily_events_schedule],
    resources=RESOURCES_BY_WAREHOUSE[warehouse_engine()](),
    # A DuckDB file has one writer, and the steps are SQL the warehouse parallelises itself:
    # running them one after another in one process is both safe and fastest.
    executor=in_process_executor,
)
