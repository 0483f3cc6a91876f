"""The embedded warehouse: one DuckDB file.

Staging reads each source file once in Python (`sources.records` finds its records with Arrow kernels; a
day file a slice of about 16 MB at a time, `sources.slices`, so memory does not grow with a day's size) and
hands the records to DuckDB as Arrow, in batches (`staging_load.py`); DuckDB's JSON parser does the typing
and validation in SQL (`sql/parse_*.sql`), parsing each record once on the way into staging. The day files
of a local source are read by DuckDB's own CSV reader instead, many days in one statement,
while Python scans them beside it for what only it can tell (`day_lines.py`): the same records load.
Every load or transform is one transaction. A DuckDB file has one writer at a time: a second process
gets a clear error instead of a partial write.

While a Dagster run executes, the resource holds the database open (`setup_for_execution`), so the
connection each step and check opens joins the open database instead of opening the file again (and
checkpointing it on every close).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from dagster import Failure, InitResourceContext
from pydantic import Field, PrivateAttr, field_validator

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import SONG_PREFIX, event_key
from sparkify_assets.sources.read_ahead import iterate_ahead
from sparkify_assets.sources.records import RecordColumns, split_into
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.sources.slices import SLICE_BYTES, SliceRecords, split_in_slices
from sparkify_assets.warehouse.duckdb.day_lines import load_day_files, readable_paths
from sparkify_assets.warehouse.duckdb.memory import STAGED_EVENTS_PER_DAY, events_per_statement
from sparkify_assets.warehouse.duckdb.settings import (
    WarehouseUnavailable,
    database_path,
    memory_limit,
    require_database_file,
)
from sparkify_assets.warehouse.duckdb.staging_load import SplitFile, StagingLoad
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Log, Warehouse, run_file
from sparkify_assets.warehouse.layout import column_widths
from sparkify_assets.warehouse.sql import SqlValue, statements

SQL = Path(__file__).parent / "sql"

#: Slices of day files read and split ahead of the one DuckDB is given (each holds its records in memory).
SPLIT_AHEAD = 1


class WarehouseOutOfMemory(Failure):
    """DuckDB needed more memory than SPARKIFY_DUCKDB_MEMORY_LIMIT allows. Not retried: the same data needs the
    same memory again."""

    def __init__(self, description: str) -> None:
        super().__init__(description, allow_retries=False)


def _out_of_memory(error: BaseException) -> duckdb.OutOfMemoryException | None:
    """The DuckDB out-of-memory error behind ``error``: itself, or one it was raised while handling (a
    statement after the failed one in the same transaction fails with "transaction is aborted", hiding it)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, duckdb.OutOfMemoryException):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class DuckDBWarehouse(Warehouse):
    """The embedded DuckDB warehouse (SPARKIFY_DUCKDB_PATH)."""

    path: str = Field(description="The DuckDB database file (SPARKIFY_DUCKDB_PATH).")
    memory_limit: str = Field(
        default="1GB",
        description=(
            "DuckDB's memory_limit (SPARKIFY_DUCKDB_MEMORY_LIMIT), e.g. 512MB, 1.5GB, 2GiB. Beyond it DuckDB moves "
            "sorts, joins, aggregations and rows written so far to disk, but not the records it is parsing: a load "
            "whose records need more fails, naming this setting."
        ),
    )
    threads: int | None = Field(default=None, description="DuckDB worker threads (default: all cores).")
    temp_directory: str | None = Field(
        default=None,
        description="Where DuckDB puts what it moves out of memory (default: next to the database file).",
    )

    #: The connection that keeps the database open while a run executes (None outside a run).
    _held: Any = PrivateAttr(default=None)

    @field_validator("path")
    @classmethod
    def _file_path(cls, path: str) -> str:
        return database_path(path)

    @field_validator("memory_limit", mode="before")  # "before": an EnvVar is still an EnvVar
    @classmethod
    def _memory_size(cls, value: Any) -> Any:
        return memory_limit(value)

    @property
    def engine_name(self) -> str:
        return "duckdb"

    @property
    def table_schema(self) -> str:
        return "main"

    @property
    def engine_sql(self) -> Path:
        return SQL

    @property
    def session(self) -> Any:
        return self._held

    def statement_windows(self, window: DayWindow) -> list[DayWindow]:
        """Consecutive days of at most `events_per_statement` staged events each (a day with more is a window of
        its own), so that a statement sorts its plays within memory_limit (`memory.EVENT_SORT_BYTES`)."""
        if window.start_day == window.end_day:
            return [window]
        events = dict(self.query(STAGED_EVENTS_PER_DAY, window.sql_params))
        return window.slices(events, events_per_statement(self.memory_limit))

    # -- connections -------------------------------------------------------------------------------------
    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Hold the database open for the run. Opening it here also fails the run early, naming the file,
        when another process has it open."""
        self._held = self._open(read_only=False)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.close()  # the last connection: DuckDB checkpoints and closes the file

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        connection = self._open(read_only=read_only and self._held is None)
        try:
            with self._memory_hint():
                yield connection
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        with self.connect() as connection:
            connection.begin()
            try:
                yield connection
            except BaseException:
                # A dropped connection cannot roll back (closing it does): keep the error that stopped the work.
                with suppress(duckdb.Error):
                    connection.rollback()
                raise
            try:
                connection.commit()
            except (duckdb.IOException, duckdb.TransactionException) as exc:
                # A full disk or a read-only folder shows here, when the write-ahead log is written.
                raise WarehouseUnavailable(
                    f"cannot write the warehouse {self.path} (SPARKIFY_DUCKDB_PATH): {exc}"
                ) from None

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        path = Path(self.path)
        config: dict[str, Any] = {
            "memory_limit": self.memory_limit,
            "temp_directory": self.temp_directory or str(path.parent / f"{path.name}.tmp"),
            # Nothing is downloaded or loaded behind the project's back. The one extension it uses, json, is
            # built into the duckdb wheel (test_open.py checks that it is there with these settings).
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # A table name never resolves to a Python object of the caller (a missing table `time` would
            # otherwise scan the `time` module).
            "python_enable_replacements": False,
        }
        if self.threads:
            config["threads"] = self.threads
        if self._held is None:  # the held connection's file was checked when the run opened it
            require_database_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # While the database is open in this process (a run holds it), DuckDB gives a new connection
            # to the open database rather than opening the file again.
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except OSError as exc:
            raise WarehouseUnavailable(
                f"cannot create the warehouse folder {path.parent} (SPARKIFY_DUCKDB_PATH): {exc.strerror}"
            ) from None
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" in message.lower():
                message = "it is open in another process (a DuckDB file has one writer at a time)"
            raise WarehouseUnavailable(f"cannot open the warehouse {path} (SPARKIFY_DUCKDB_PATH): {message}") from None

    @contextmanager
    def _memory_hint(self) -> Iterator[None]:
        """Turn DuckDB running out of memory into an error naming SPARKIFY_DUCKDB_MEMORY_LIMIT (not retried),
        also when a later statement of the same transaction hid it ("transaction is aborted")."""
        try:
            yield
        except WarehouseOutOfMemory:
            raise
        except Exception as exc:
            cause = _out_of_memory(exc)
            if cause is None:
                raise
            raise WarehouseOutOfMemory(
                f"DuckDB needs more memory than SPARKIFY_DUCKDB_MEMORY_LIMIT={self.memory_limit} allows "
                f"({str(cause).splitlines()[0]}). Raise SPARKIFY_DUCKDB_MEMORY_LIMIT: DuckDB keeps the records it "
                "is parsing and each value it builds in memory, so a very large record needs several times its size."
            ) from cause

    # -- Warehouse ---------------------------------------------------------------------------------------
    def query(self, sql: str, params: Mapping[str, SqlValue] | None = None) -> list[tuple[Any, ...]]:
        (statement,) = statements(sql, params or {})
        with self.connect() as connection:
            return connection.execute(statement).fetchall()

    def columns(self, table: str) -> Sequence[tuple[str, str]]:
        with self.connect() as connection:
            return connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()

    def load_staging_events(self, source: SparkifySource, window: DayWindow, log: Log) -> list[FileLoad]:
        days = {event_key(day): day for day in window.days}
        loader = StagingLoad(SQL / "parse_events.sql", SQL / "reject_events.sql", _widths("staging_events"), log)
        with self.transaction() as connection:
            self.start_event_window(connection, window)
            # DuckDB reads a local source's day files itself (`day_lines.py`); the others, and the files it
            # may not read, are split in Python.
            paths = readable_paths(source, days)
            rest = list(days) if paths is None else load_day_files(connection, loader, source, days, paths)
            self._split_day_files(connection, loader, source, days, rest)
            loads = loader.finish(connection)
            self.finish_event_window(connection, window, loads)
        loader.summary(f"{source.location('log_data/')} {window}")
        return loads

    @staticmethod
    def _split_day_files(
        connection: duckdb.DuckDBPyConnection,
        loader: StagingLoad,
        source: SparkifySource,
        days: Mapping[str, date],
        keys: list[str],
    ) -> None:
        """Day files split into records in Python, a slice at a time (`sources/slices.py`), in a thread of its
        own, SPLIT_AHEAD slices ahead, while DuckDB parses the slices before (DuckDB and Arrow's kernels
        release the interpreter lock): memory holds a few slices, whatever a day's size."""
        for piece in iterate_ahead(_day_slices(source, keys), ahead=SPLIT_AHEAD):
            loader.add_slice(connection, piece.key, days[piece.key], piece.size, piece.records, piece.last)
            if piece.last:
                loader.progress(source.location(piece.key))

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        loader = StagingLoad(SQL / "parse_songs.sql", SQL / "reject_songs.sql", _widths("staging_songs"), log)
        files: list[SplitFile] = []
        records = RecordColumns()  # the records of every song file, in file order: one batch
        for key, data in source.read_many(source.song_keys()):
            before = len(records)
            split_into(records, data, key)
            files.append(SplitFile(key, None, len(data), len(records) - before))
        with self.transaction() as connection:
            run_file(connection, SHARED_SQL / "clear_songs.sql")
            loader.add(connection, files, records.table())
            loads = loader.finish(connection)
            self.require_few_rejects(loads, catalogue=source.location(SONG_PREFIX))
        loader.summary(source.location(SONG_PREFIX))
        return loads


def _widths(table: str) -> dict[str, int]:
    """The VARCHAR widths of ``table`` as create_tables.sql gives them, which the staging rules (`sql/parse_*.sql`)
    check: DuckDB does not enforce a width, Redshift does (docs/redshift.md, "VARCHAR widths")."""
    return column_widths(SQL / "create_tables.sql", table)


def _day_slices(source: SparkifySource, keys: list[str]) -> Iterator[SliceRecords]:
    """The records of each day file, a slice at a time, the file read a slice's worth at a time."""
    for key in keys:
        yield from split_in_slices(key, source.read_chunks(key, SLICE_BYTES))
