"""Daily event partitions (SPEC.md, "Partitions") and the window of days one run covers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition

from sparkify_assets.day_window import DayWindow  # noqa: F401  (the assets import it from here)
from sparkify_assets.settings import partitions_end, partitions_start

#: The first partition day (SPARKIFY_PARTITIONS_START) and the last one, inclusive (SPARKIFY_PARTITIONS_END;
#: None: yesterday, UTC, moving on every day). Read when the definitions load.
FIRST_DAY = partitions_start()
LAST_DAY = partitions_end()

daily_partitions = DailyPartitionsDefinition(
    start_date=FIRST_DAY.isoformat(),
    # Dagster's end_date is exclusive: the partitions stop before the day after the last one.
    end_date=(LAST_DAY + timedelta(days=1)).isoformat() if LAST_DAY else None,
    timezone="UTC",
)


def why_not_a_partition(day: date, now: datetime | None = None) -> str | None:
    """Why ``day`` is not a daily partition (as of ``now``, default the current time), or None if it is one."""
    if day < FIRST_DAY:
        return f"{day} is before the first partition, {FIRST_DAY} (SPARKIFY_PARTITIONS_START)"
    if LAST_DAY is not None and day > LAST_DAY:
        return f"{day} is after the last partition, {LAST_DAY} (SPARKIFY_PARTITIONS_END)"
    if day >= (now or datetime.now(UTC)).astimezone(UTC).date():
        return f"{day} is not over yet: a day is a partition from the next midnight, UTC"
    return None


def partitions_range_text() -> str:
    """The partitions, in words: ``2018-11-01 to 2018-11-30`` or ``2018-11-01 to yesterday (UTC)``."""
    return f"{FIRST_DAY} to {LAST_DAY or 'yesterday (UTC)'}"


def requested_by(tags: Mapping[str, str]) -> str:
    """Who asked a run for its days, from the run's tags, for messages such as a missing day file's:
    ``asked for by the schedule daily_events_job_schedule (yesterday's partition, at 02:00 UTC)``."""
    if schedule := tags.get("dagster/schedule_name"):
        return f"asked for by the schedule {schedule} (yesterday's partition, at 02:00 UTC)"
    if sensor := tags.get("dagster/sensor_name"):
        return f"asked for by the sensor {sensor}, when its file appeared"
    if backfill := tags.get("dagster/backfill"):
        return f"asked for by backfill {backfill}"
    return "asked for by hand (the UI, or dagster asset materialize)"


#: A backfill of many days is one run that processes the whole window, not one run per day.
single_run_backfill = BackfillPolicy.single_run()
