"""Jobs and the daily schedule (the arrival sensor, its alternative, is in `sensors.py`)."""

from __future__ import annotations

from dagster import AssetSelection, build_schedule_from_partitioned_job, define_asset_job

#: Everything derived from the event logs: one day's partition, with its checks, and the day's analytics.
daily_events_job = define_asset_job(
    name="daily_events_job",
    selection=(
        AssetSelection.assets("staging_events", "users", "time", "songplays") | AssetSelection.groups("analytics")
    ),
    description=(
        "Load one day's event log and rebuild that day of users, time and songplays, with checks, "
        "then that day of the analytics tables."
    ),
)

#: The song catalogue (not partitioned): run when new song files arrive.
song_catalog_job = define_asset_job(
    name="song_catalog_job",
    selection=AssetSelection.assets("staging_songs", "artists", "songs"),
    description="Reload all song files and rebuild songs and artists, with checks.",
)

#: At 02:00 UTC, the previous day's partition (the newest complete day).
daily_events_schedule = build_schedule_from_partitioned_job(daily_events_job, hour_of_day=2, minute_of_hour=0)
