"""The embedded warehouse: one DuckDB file.

Staging reads each source file once in Python (`sources.records`) and hands its records to DuckDB as
one Arrow batch; DuckDB's JSON parser does the typing and validation in SQL (`sql/parse_*.sql`). Every
load or transform is one transaction. A DuckDB file has one writer at a time: a second process gets a
clear error instead of a partial write.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import Field

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import event_key
from sparkify_assets.sources.records import FileRecords, split_records
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Log, Warehouse
from sparkify_assets.warehouse.sql import SqlValue, read_sql, statements

SQL = Path(__file__).parent / "sql"

_COUNT_PARSED = """
SELECT source_key, COUNT(*) FILTER (WHERE reason IS NULL), COUNT(*) FILTER (WHERE reason IS NOT NULL)
FROM parsed_records
GROUP BY source_key
"""
_RECORD_FILE = "INSERT INTO staging_files VALUES (?, ?, ?, ?)"


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be opened for writing."""


class DuckDBWarehouse(Warehouse):
    """The embedded DuckDB warehouse (SPARKIFY_DUCKDB_PATH)."""

    path: str = Field(description="The DuckDB database file (SPARKIFY_DUCKDB_PATH).")
    memory_limit: str = Field(default="1GB", description="DuckDB memory_limit; above it DuckDB spills to disk.")
    threads: int | None = Field(default=None, description="DuckDB worker threads (default: all cores).")
    temp_directory: str | None = Field(
        default=None, description="Where DuckDB spills (default: next to the database file)."
    )

    @property
    def engine_name(self) -> str:
        return "duckdb"

    def qualified_name(self, table: str) -> str:
        return f"main.{table}"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.path)
        config: dict[str, Any] = {
            "memory_limit": self.memory_limit,
            "temp_directory": self.temp_directory or str(path.parent / f"{path.name}.tmp"),
        }
        if self.threads:
            config["threads"] = self.threads
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect(str(path), read_only=read_only, config=config)
        except OSError as exc:
            raise WarehouseUnavailable(
                f"cannot create the warehouse folder {path.parent} (SPARKIFY_DUCKDB_PATH): {exc.strerror}"
            ) from None
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" in message.lower():
                message = "it is open in another process (a DuckDB file has one writer at a time)"
            raise WarehouseUnavailable(f"cannot open the warehouse {path} (SPARKIFY_DUCKDB_PATH): {message}") from None
        try:
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
                connection.rollback()
                raise
            connection.commit()

    # -- Warehouse ---------------------------------------------------------------------------------------
    def create_tables(self) -> None:
        with self.transaction() as connection:
            for name in ("create_tables.sql", "create_views.sql"):
                for statement in statements(read_sql(SQL / name)):
                    connection.execute(statement)

    def run_script(self, sql: str, params: Mapping[str, SqlValue]) -> None:
        with self.transaction() as connection:
            for statement in statements(sql, params):
                connection.execute(statement)

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
        loads: list[FileLoad] = []
        keys = {event_key(day): day for day in window.days}
        with self.transaction() as connection:
            for statement in statements(read_sql(SHARED_SQL / "clear_event_window.sql"), window.sql_params):
                connection.execute(statement)
            for key, data in source.read_many(keys):
                started = time.perf_counter()
                day = keys[key]
                records = split_records(key, data)
                loaded, rejected = self._parse_into_staging(
                    connection, records, "parse_events.sql", {"partition_day": day}
                ).get(key, (0, 0))
                connection.execute(_RECORD_FILE, [key, day, len(records), _now()])
                loads.append(FileLoad(key, day, len(records), loaded, rejected))
                seconds = time.perf_counter() - started
                log(
                    f"{source.location(key)}: {len(records)} records, {loaded} loaded, {rejected} rejected "
                    f"({len(data) / 1e6:.1f} MB in {seconds:.2f} s, {len(records) / max(seconds, 1e-9):,.0f} records/s)"
                )
        return loads

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        keys = source.song_keys()
        batch = FileRecords(source_key="")
        batch_keys: list[str] = []
        per_file: list[tuple[str, int]] = []
        started = time.perf_counter()
        for key, data in source.read_many(keys):
            records = split_records(key, data)
            per_file.append((key, len(records)))
            batch.line_numbers.extend(records.line_numbers)
            batch.texts.extend(records.texts)
            batch.errors.extend(records.errors)
            batch_keys.extend([key] * len(records))
        with self.transaction() as connection:
            for statement in statements(read_sql(SHARED_SQL / "clear_songs.sql")):
                connection.execute(statement)
            counts = self._parse_into_staging(connection, batch, "parse_songs.sql", {}, batch_keys)
            files = pa.table(
                {
                    "source_key": [key for key, _ in per_file],
                    "partition_day": pa.nulls(len(per_file), pa.date32()),
                    "records": pa.array([count for _, count in per_file], pa.int64()),
                }
            )
            connection.register("song_files", files)
            connection.execute("INSERT INTO staging_files SELECT *, ? FROM song_files", [_now()])
            connection.unregister("song_files")
        loads = [FileLoad(key, None, count, *counts.get(key, (0, 0))) for key, count in per_file]
        log(
            f"{source.location('song_data/')}: {len(loads)} files, {len(batch)} records, "
            f"{sum(load.loaded for load in loads)} loaded, {sum(load.rejected for load in loads)} rejected "
            f"in {time.perf_counter() - started:.2f} s"
        )
        return loads

    # -- internals ---------------------------------------------------------------------------------------
    def _parse_into_staging(
        self,
        connection: duckdb.DuckDBPyConnection,
        records: FileRecords,
        parse_sql: str,
        params: Mapping[str, SqlValue],
        keys: list[str] | None = None,
    ) -> dict[str, tuple[int, int]]:
        """Insert a batch of records into staging (or staging_rejects); returns (loaded, rejected) per file."""
        connection.register(
            "raw_records",
            pa.table(
                {
                    "source_key": pa.array(keys if keys is not None else [records.source_key] * len(records)),
                    "line_number": pa.array(records.line_numbers, pa.int64()),
                    "raw_text": pa.array(records.texts, pa.string()),
                    "scan_error": pa.array(records.errors, pa.string()),
                }
            ),
        )
        try:
            for statement in statements(read_sql(SQL / parse_sql), {**params, "loaded_at": _now()}):
                connection.execute(statement)
            counts = {key: (int(ok), int(bad)) for key, ok, bad in connection.execute(_COUNT_PARSED).fetchall()}
            connection.execute("DROP TABLE parsed_records")
        finally:
            connection.unregister("raw_records")
        return counts


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
