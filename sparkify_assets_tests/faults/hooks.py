"""Fault points at the warehouse boundary, for tests only: nothing here is imported by the package.

A `FaultPoint` names a moment of a run by what reaches DuckDB: "just after a statement matching X ran",
"a transaction that ran X is about to commit", "... has just committed". `watched_connect` wraps
`duckdb.connect` so that every connection the engine opens watches for the point and, when it comes,
either pauses the process for good (the crash tests then SIGKILL it: `pause`) or behaves as a dropped
connection (the statement fails and so does every later call on that connection: `drop`).

Keyed on SQL text rather than on engine internals, the points survive refactoring of the engine; if the
SQL they watch for changes, the tests fail with "never reached", not silently.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

#: How long a paused process waits to be killed before it gives up (it never continues the run).
PAUSE_LIMIT_SECONDS = 120
PAUSED_EXIT_CODE = 70


@dataclass(frozen=True)
class FaultPoint:
    """``when`` is one of ``after`` (a statement matching ``pattern`` ran), ``before-commit`` (a
    transaction that ran one is about to commit) or ``after-commit`` (it has committed)."""

    name: str
    when: str
    pattern: str
    description: str

    def matches(self, sql: str) -> bool:
        return re.search(self.pattern, sql) is not None


#: The moments the crash tests kill a run of one partition, in the order a run reaches them.
KILL_POINTS: dict[str, FaultPoint] = {
    point.name: point
    for point in (
        FaultPoint(
            "staging-cleared",
            "after",
            r"^\s*DELETE FROM staging_events\b",
            "during staging: the day's old rows deleted, its new rows not yet inserted",
        ),
        FaultPoint(
            "staging-loaded",
            "before-commit",
            r"^\s*INSERT INTO staging_events\b",
            "during staging: every new row inserted, the transaction not yet committed",
        ),
        FaultPoint(
            "between-staging-and-star",
            "after-commit",
            r"^\s*INSERT INTO staging_events\b",
            "between staging and the star tables: staging committed, no star table touched",
        ),
        FaultPoint(
            "users-upsert",
            "after",
            r"^\s*DELETE FROM users\b",
            "during the users upsert: the day's users deleted, not yet re-inserted",
        ),
    )
}


class InjectedDrop(duckdb.ConnectionException):
    """What a dropped connection raises here (a real DuckDB exception type, as the engine would see)."""


@dataclass
class FaultPlan:
    """Where to strike and how: ``pause`` (write ``marker``, then wait to be killed) or ``drop``.

    ``times`` bounds how many connections a ``drop`` plan breaks (a retry then succeeds); ``hits`` counts them.
    """

    point: FaultPoint
    action: str = "pause"
    marker: Path | None = None
    times: int = 1
    hits: int = 0

    def strike(self, connection: _WatchedConnection) -> None:
        if self.hits >= self.times:
            return
        self.hits += 1
        if self.action == "pause":
            _pause(self.point, self.marker)
        connection.dead = True
        raise InjectedDrop(f"Connection Error: the warehouse connection was dropped (injected at {self.point.name})")


def _pause(point: FaultPoint, marker: Path | None) -> None:
    """Tell the test where we are, then stop for good: the test kills us here."""
    if marker is not None:
        # Written beside it and renamed into place: the test reads the marker as soon as it exists, and would
        # otherwise find it empty now and then (CI did: "not enough values to unpack").
        written = marker.with_name(f"{marker.name}.tmp")
        with open(written, "w", encoding="utf-8") as out:
            out.write(f"{point.name} {os.getpid()}\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(written, marker)
    deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
    os._exit(PAUSED_EXIT_CODE)  # never carry on with the run: the point would not be a point any more


class _WatchedConnection:
    """A DuckDB connection that watches for a fault point; everything else is passed through."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, plan: FaultPlan) -> None:
        self._connection = connection
        self._plan = plan
        self._matched_in_transaction = False
        self.dead = False

    def _alive(self) -> None:
        if self.dead:
            raise InjectedDrop("Connection Error: the warehouse connection is closed (dropped earlier)")

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._alive()
        result = self._connection.execute(sql, *args, **kwargs)
        if self._plan.point.matches(sql):
            self._matched_in_transaction = True
            if self._plan.point.when == "after":
                self._plan.strike(self)
        return result

    def begin(self) -> Any:
        self._alive()
        self._matched_in_transaction = False
        return self._connection.begin()

    def commit(self) -> Any:
        self._alive()
        matched, self._matched_in_transaction = self._matched_in_transaction, False
        if matched and self._plan.point.when == "before-commit":
            self._plan.strike(self)
        result = self._connection.commit()
        if matched and self._plan.point.when == "after-commit":
            self._plan.strike(self)
        return result

    def rollback(self) -> Any:
        self._alive()
        self._matched_in_transaction = False
        return self._connection.rollback()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> _WatchedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name not in {"register", "unregister", "close"}:
            self._alive()
        return getattr(self._connection, name)


def watched_connect(plan: FaultPlan, connect: Callable[..., Any] = duckdb.connect) -> Callable[..., Any]:
    """A stand-in for `duckdb.connect` whose connections watch for ``plan``'s point."""

    def open_watched(*args: Any, **kwargs: Any) -> _WatchedConnection:
        return _WatchedConnection(connect(*args, **kwargs), plan)

    return open_watched
