"""Jobs and the daily schedule (the arrival sensor, its alternative, is in `sensors.py`)."""

from datetime import UTC, datetime, timedelta

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from sparkify_assets.graph import DAILY_ASSET_KEYS
from sparkify_assets.partitions import why_not_a_partition
from sparkify_assets.settings import automation

#: Every daily asset (everything derived from the event logs, the day's analytics included): one day's
#: partition, with its checks.
daily_events_job = define_asset_job(
    name="daily_events_job",
    selection=AssetSelection.assets(*DAILY_ASSET_KEYS),
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


@schedule(
    name="daily_events_job_schedule",
    job=daily_events_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING if automation() == "schedule" else DefaultScheduleStatus.STOPPED,
    description=(
        "At 02:00 UTC, yesterday's partition of daily_events_job (the newest complete day). Skips, saying why, "
        "when that day is not a partition (after SPARKIFY_PARTITIONS_END). An alternative to "
        "event_file_arrival_sensor: turn on one of the two (SPARKIFY_AUTOMATION=schedule starts this one)."
    ),
)
def daily_events_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """At 02:00 UTC, the previous day's partition; never a day outside the partitions."""
    tick = context.scheduled_execution_time or datetime.now(UTC)
    day = (tick.astimezone(UTC) - timedelta(days=1)).date()
    if reason := why_not_a_partition(day, now=tick):
        return SkipReason(f"nothing to run for yesterday: {reason}")
    return RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
