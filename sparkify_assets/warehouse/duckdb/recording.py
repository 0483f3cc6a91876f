"""The DuckDB engine with every statement it executes recorded (for `sparkify sql --engine duckdb`).

DuckDB is embedded, so the recording wraps a real connection (to a scratch database): statements run for
real and answer for themselves. Transactions opened through the Python API are recorded as the
statements they stand for; registering an Arrow table, which is not SQL, as a note.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import ResourceDependency

from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse
from sparkify_assets.warehouse.recording import StatementLog

#: What the engine registers under each name (engine.py, staging_load.py).
_REGISTERED = {
    "raw_records": "the records read from the source",
    "loaded_files": "the files loaded and their record counts",
    "day_files": "the day files read by DuckDB, their keys and days,",
}


class RecordingDuckDBConnection:
    """A DuckDB connection that logs what it is asked to run, then runs it."""

    def __init__(self, connection: Any, log: StatementLog) -> None:
        self._connection = connection
        self._log = log

    def execute(self, query: str, parameters: Any = None) -> Any:
        self._log.record(query.strip())
        if parameters is None:
            return self._connection.execute(query)
        return self._connection.execute(query, parameters)

    def begin(self) -> Any:
        self._log.record("BEGIN TRANSACTION")
        return self._connection.begin()

    def commit(self) -> Any:
        self._log.record("COMMIT")
        return self._connection.commit()

    def rollback(self) -> Any:
        self._log.record("ROLLBACK")
        return self._connection.rollback()

    def register(self, view_name: str, python_object: Any) -> Any:
        what = _REGISTERED.get(view_name, "data")
        self._log.record(f"register {what} as the Arrow table {view_name}", kind="note")
        return self._connection.register(view_name, python_object)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class RecordingDuckDBWarehouse(DuckDBWarehouse):
    """`DuckDBWarehouse` whose connections record every statement in ``recorder``."""

    recorder: ResourceDependency[StatementLog]

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        with super().connect(read_only=read_only) as connection:
            yield RecordingDuckDBConnection(connection, self.recorder)
