"""One staging load on DuckDB, inside the load's transaction: the records of the source files, a batch at a
time, parsed into staging (and the bad ones into staging_rejects), and what each file loaded.

The parse SQL inserts the valid records and says how many it inserted; only a batch where that is fewer
than its records runs the reject SQL, which parses the batch again to keep the others in staging_rejects
with their reason. Both classify records with the one table macro that `sql/parse_*.sql` defines. Memory
holds the batch being parsed and the slices split ahead (`sources/slices.py`), whatever the number and size
of the files.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from sparkify_assets.warehouse.engine import FileLoad, Log
from sparkify_assets.warehouse.sql import read_sql, statements

#: The typed-value macros of JSON fields, which the parse and reject SQL use: run before them.
JSON_VALUES_SQL = Path(__file__).parent / "sql" / "json_values.sql"

#: Records handed to DuckDB in one statement: enough rows to keep every thread busy, few enough that a
#: batch (its raw text, in Arrow) stays small next to the memory limit.
BATCH_RECORDS = 262_144
#: ... and at most about this many bytes of source text (a slice beyond it is a batch of its own): records
#: of 1 MB each are few, and DuckDB holds several times a batch's text while it parses it.
BATCH_BYTES = 32 * 1024 * 1024
#: Rows per record batch of the stream DuckDB reads a batch from (each thread parses whole record batches).
STREAM_CHUNK_ROWS = 16_384
#: At most one progress line per this many seconds while a staging load runs (each line is an event in
#: Dagster's event log, which is not free).
PROGRESS_SECONDS = 10.0

_REJECTS_OF_LOAD = """
SELECT source_key, COUNT(*)
FROM staging_rejects
WHERE loaded_at = ?
GROUP BY source_key
"""
_RECORD_FILES = (
    "INSERT INTO staging_files (source_key, partition_day, records, loaded_at) "
    "SELECT source_key, partition_day, records, ? FROM loaded_files"
)


@dataclass(frozen=True)
class SplitFile:
    """A source file split into records: its key, its partition day (None for a song file), its size in
    bytes and how many records it holds."""

    key: str
    day: date | None
    size: int
    records: int


class StagingLoad:
    """The batches and per-file counts of one staging load (`parse_sql` / `reject_sql`: the engine's
    ``parse_*.sql`` and ``reject_*.sql`` of the table loaded; ``widths``: its VARCHAR columns' widths, from
    create_tables.sql)."""

    def __init__(self, parse_sql: Path, reject_sql: Path, widths: Mapping[str, int], log: Log) -> None:
        self.parse_sql = parse_sql
        self.reject_sql = reject_sql
        #: The SQL's parameters besides loaded_at: each VARCHAR column's width (``:<column>_width``), which the
        #: rules check (DuckDB does not enforce a width, Redshift does: docs/redshift.md, "VARCHAR widths").
        self.widths = {f"{column}_width": width for column, width in widths.items()}
        self.log = log
        #: Every reject of this load carries it: `finish` counts them by it.
        self.loaded_at = datetime.now(UTC).replace(tzinfo=None)
        self.started = self.last_progress = time.perf_counter()
        self.files: list[SplitFile] = []
        self.pending: list[pa.Table] = []  # records not parsed yet, with their source_key and partition_day
        self.pending_bytes = 0
        self.file_records = 0  # the records and bytes of the day file whose slices `add_slice` is given
        self.file_bytes = 0
        self.inserted = 0
        self.any_rejected = False

    def add(self, connection: duckdb.DuckDBPyConnection, files: Sequence[SplitFile], records: pa.Table) -> None:
        """Queue the records of ``files`` (``records`` holds each file's records, in file order), parsing the
        queue into staging once it holds BATCH_RECORDS."""
        self.files.extend(files)
        if len(files) == 1:
            (file,) = files
            source_keys = pa.repeat(pa.scalar(file.key, pa.string()), file.records)
            partition_days = pa.repeat(pa.scalar(file.day, pa.date32()), file.records)
        else:
            source_keys = pa.array([file.key for file in files for _ in range(file.records)], pa.string())
            partition_days = pa.array([file.day for file in files for _ in range(file.records)], pa.date32())
        self.pending.append(
            records.append_column("source_key", source_keys).append_column("partition_day", partition_days)
        )
        if sum(batch.num_rows for batch in self.pending) >= BATCH_RECORDS:
            self.flush(connection)

    def add_slice(
        self, connection: duckdb.DuckDBPyConnection, key: str, day: date, size: int, records: pa.Table, last: bool
    ) -> None:
        """Queue the records of one slice (``size`` bytes) of the day file ``key``; ``last``: its last slice,
        which completes the file. Parses the queue into staging once it holds BATCH_RECORDS or BATCH_BYTES."""
        self.file_records += records.num_rows
        self.file_bytes += size
        if last:
            self.files.append(SplitFile(key, day, self.file_bytes, self.file_records))
            self.file_records = self.file_bytes = 0
        # Queued even with no record (an empty day file): its batch is parsed all the same, so that a run sends
        # the same statements whatever the files hold (`sparkify sql` plans a run over empty files).
        self._queue(connection, key, day, records, size)

    def _queue(self, connection: duckdb.DuckDBPyConnection, key: str, day: date, records: pa.Table, size: int) -> None:
        """Queue ``records`` of the day file ``key`` (``size`` bytes of source text), parsing the queue into
        staging once it holds BATCH_RECORDS or BATCH_BYTES."""
        self.pending.append(
            records.append_column("source_key", pa.repeat(pa.scalar(key, pa.string()), records.num_rows)).append_column(
                "partition_day", pa.repeat(pa.scalar(day, pa.date32()), records.num_rows)
            )
        )
        self.pending_bytes += size
        if self.pending_bytes >= BATCH_BYTES or sum(batch.num_rows for batch in self.pending) >= BATCH_RECORDS:
            self.flush(connection)

    def flush(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Parse the queued records into staging (and, if any is bad, staging_rejects)."""
        if not self.pending:
            return
        batch = pa.concat_tables(self.pending)
        self.pending, self.pending_bytes = [], 0
        inserted = self._run(connection, self.parse_sql, batch)
        self.inserted += inserted
        if inserted < batch.num_rows:
            self.any_rejected = True
            self._run(connection, self.reject_sql, batch)

    def _run(self, connection: duckdb.DuckDBPyConnection, sql_file: Path, batch: pa.Table) -> int:
        """Run a parse or reject SQL file over ``batch`` as `raw_records`; returns the rows it inserted.

        The batch is registered as a stream (a RecordBatchReader), which DuckDB consumes: a registered
        table would stay referenced by the open transaction until it commits, so every batch of a month
        would stay in memory. The stream's record batches are small enough for each of DuckDB's threads
        to take some.
        """
        stream = pa.RecordBatchReader.from_batches(batch.schema, batch.to_batches(max_chunksize=STREAM_CHUNK_ROWS))
        connection.register("raw_records", stream)
        try:
            return self.run_sql(connection, sql_file)
        finally:
            connection.unregister("raw_records")

    def run_sql(self, connection: duckdb.DuckDBPyConnection, sql_file: Path) -> int:
        """Run a parse or reject SQL file over the records `raw_records` holds (a registered batch, or a view:
        `day_lines.py`); returns the rows it inserted."""
        inserted = 0
        sql = read_sql(JSON_VALUES_SQL) + read_sql(sql_file)
        for statement in statements(sql, {"loaded_at": self.loaded_at, **self.widths}):
            result = connection.execute(statement)
            if statement.startswith("INSERT"):
                inserted += result.fetchall()[0][0]
        return inserted

    def add_loaded_file(
        self, connection: duckdb.DuckDBPyConnection, key: str, day: date, size: int, loaded: int, others: pa.Table
    ) -> None:
        """A day file (``size`` bytes) whose ``loaded`` one-line records the engine read into staging itself
        (`day_lines.py`), and its other records (``others``), queued by the bytes of their own text: the few
        records of many files make one batch."""
        self.inserted += loaded
        self.files.append(SplitFile(key, day, size, loaded + others.num_rows))
        self._queue(connection, key, day, others, others.column("raw_text").nbytes)

    def finish(self, connection: duckdb.DuckDBPyConnection) -> list[FileLoad]:
        """Flush, record the files in staging_files and say what each file loaded and rejected."""
        self.flush(connection)
        rejected: dict[str, int] = {}
        if self.any_rejected:
            rejected = {key: int(n) for key, n in connection.execute(_REJECTS_OF_LOAD, [self.loaded_at]).fetchall()}
        loaded_files = pa.table(
            {
                "source_key": pa.array([file.key for file in self.files], pa.string()),
                "partition_day": pa.array([file.day for file in self.files], pa.date32()),
                "records": pa.array([file.records for file in self.files], pa.int64()),
            }
        )
        connection.register("loaded_files", loaded_files)
        try:
            connection.execute(_RECORD_FILES, [self.loaded_at])
        finally:
            connection.unregister("loaded_files")
        records = self.records
        if self.inserted + sum(rejected.values()) != records:
            raise RuntimeError(
                f"staging load does not add up: {records} records read, "
                f"{self.inserted} loaded, {sum(rejected.values())} rejected"
            )
        return [self._file_load(file, rejected.get(file.key, 0)) for file in self.files]

    @staticmethod
    def _file_load(file: SplitFile, rejected: int) -> FileLoad:
        return FileLoad(file.key, file.day, records=file.records, loaded=file.records - rejected, rejected=rejected)

    @property
    def records(self) -> int:
        return sum(file.records for file in self.files)

    def progress(self, location: str) -> None:
        """A progress line at most every PROGRESS_SECONDS."""
        now = time.perf_counter()
        if now - self.last_progress >= PROGRESS_SECONDS:
            self.last_progress = now
            self.log(f"{location}: {len(self.files)} files read so far, {self._rate(now)}")

    def summary(self, location: str) -> None:
        self.log(f"{location}: {len(self.files)} files, {self.records:,} records, {self._rate(time.perf_counter())}")

    def _rate(self, now: float) -> str:
        seconds = max(now - self.started, 1e-9)
        megabytes = sum(file.size for file in self.files) / 1e6
        return (
            f"{megabytes:,.1f} MB in {seconds:.2f} s "
            f"({self.records / seconds:,.0f} records/s, {megabytes / seconds:,.1f} MB/s)"
        )
