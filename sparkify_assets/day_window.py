"""The days one run covers (`DayWindow`), and partition keys parsed as days. No Dagster import: the
`sparkify` command parses days before it loads anything heavy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta


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

    def slices(self, weights: Mapping[date, int], most: int) -> list[DayWindow]:
        """The window cut into consecutive windows, in order, that weigh at most ``most`` each and about the same:
        as few as ``most`` allows, each taking days while it weighs no more than an even share of the window's
        weight. A day that alone weighs more than ``most`` is a window of its own; a day without a weight
        weighs nothing."""
        total = sum(weights.get(day, 0) for day in self.days)
        share = -(-total // -(-total // most)) if total and most else most  # ceil(total / ceil(total / most))
        slices: list[DayWindow] = []
        start, weight = self.start_day, 0
        for day in self.days:
            if day > start and weight + weights.get(day, 0) > share:
                slices.append(DayWindow(start, day - timedelta(days=1)))
                start, weight = day, 0
            weight += weights.get(day, 0)
        return [*slices, DayWindow(start, self.end_day)]

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
