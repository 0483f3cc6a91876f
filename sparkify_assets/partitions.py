"""Daily event partitions (SPEC.md, "Partitions") and the window of days one run covers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition

DEFAULT_START = "2018-11-01"


def partitions_start() -> str:
    """First partition day, from SPARKIFY_PARTITIONS_START (read when the definitions load)."""
    start = os.environ.get("SPARKIFY_PARTITIONS_START", DEFAULT_START)
    try:
        date.fromisoformat(start)
    except ValueError:
        raise ValueError(f"SPARKIFY_PARTITIONS_START={start!r} is not a date (YYYY-MM-DD)") from None
    return start


daily_partitions = DailyPartitionsDefinition(start_date=partitions_start(), timezone="UTC")

#: A backfill of many days is one run that processes the whole window, not one run per day.
single_run_backfill = BackfillPolicy.single_run()


@dataclass(frozen=True)
class DayWindow:
    """The partition days ``start_day .. end_day`` (inclusive) that one materialization covers."""

    start_day: date
    end_day: date

    def __post_init__(self) -> None:
        if self.end_day < self.start_day:
            raise ValueError(f"empty day window {self.start_day} .. {self.end_day}")

    @classmethod
    def from_time_window(cls, start: datetime, end: datetime) -> DayWindow:
        """From Dagster's partition time window, whose end is exclusive."""
        return cls(start.date(), (end - timedelta(days=1)).date())

    @classmethod
    def parse(cls, partition_key: str) -> DayWindow:
        """One partition key, validated (``2018-11-05``)."""
        try:
            day = date.fromisoformat(partition_key)
        except (TypeError, ValueError):
            raise ValueError(f"partition key {partition_key[:40]!r} is not a day (YYYY-MM-DD)") from None
        if partition_key != day.isoformat():
            raise ValueError(f"partition key {partition_key[:40]!r} is not a day (YYYY-MM-DD)")
        return cls(day, day)

    @property
    def days(self) -> list[date]:
        return [self.start_day + timedelta(days=n) for n in range((self.end_day - self.start_day).days + 1)]

    @property
    def sql_params(self) -> dict[str, date]:
        """The parameters every windowed SQL file takes."""
        return {
            "start_day": self.start_day,
            "end_day": self.end_day,
            "after_end_day": self.end_day + timedelta(days=1),
        }

    def __str__(self) -> str:
        if self.start_day == self.end_day:
            return self.start_day.isoformat()
        return f"{self.start_day.isoformat()}...{self.end_day.isoformat()}"
