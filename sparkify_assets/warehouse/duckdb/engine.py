"""The embedded warehouse: one DuckDB file.

Staging reads each source file once in Python (`sources.records` finds its records with Arrow kernels)
and hands the records to DuckDB as Arrow, a batch of files at a time; DuckDB's JSON parser does the
typing and validation in SQL (`sql/parse_*.sql`), parsing each record once on the way into staging.
Every load or transform is one transaction. A DuckDB file has one writer at a time: a second process
gets a clear error instead of a partial write.

While a Dagster run executes, the resource holds the database open (`setup_for_execution`), so the
connection each step and check opens joins the open database instead of opening the file again (and
checkpointing it on every close).
"""

from __future__ import annotations

import queue
import re
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from dagster import EnvVar, Failure, InitResourceContext
from pydantic import Field, PrivateAttr, field_validator

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import SONG_PREFIX, event_key
from sparkify_assets.sources.records import RecordColumns, split_into, split_records
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Log, Warehouse
from sparkify_assets.warehouse.layout import layout_query, verify_layout
from sparkify_assets.warehouse.sql import SqlValue, read_sql, statements

SQL = Path(__file__).parent / "sql"
T = TypeVar("T")

#: Records handed to DuckDB in one statement: enough rows to keep every thread busy, few enough that a
#: batch (its raw text, in Arrow) stays small next to the memory limit. A file larger than this is a
#: batch of its own.
BATCH_RECORDS = 262_144
#: Files read and split ahead of the batch DuckDB is parsing (each holds its records in memory).
SPLIT_AHEAD = 1
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


#: What DuckDB would read as a URL or a catalogue (``md:``, ``s3://``) rather than a file, and control characters.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be opened for writing."""


class WarehouseOutOfMemory(Failure):
    """DuckDB needed more memory than SPARKIFY_DUCKDB_MEMORY_LIMIT allows. Not retried: the same data needs the
    same memory again."""

    def __init__(self, description: str) -> None:
        super().__init__(description, allow_retries=False)


#: SPARKIFY_DUCKDB_MEMORY_LIMIT: a number and a unit DuckDB reads the same way (no bare number, no "G" or "%").
_MEMORY = re.compile(r"(\d+(?:\.\d+)?|\.\d+) ?([KMGT]i?B)", re.IGNORECASE)
_MEMORY_UNITS = {f"{p}{i}B": base**n for n, p in enumerate("KMGT", 1) for i, base in (("", 1000), ("i", 1024))}
#: Below this DuckDB cannot even create the tables; above, it refuses the value itself.
_MEMORY_RANGE = (16 * 1000**2, 1000 * 1000**4)
MEMORY_LIMIT_FORM = (
    "a size from 16MB to 1000TB: a number and a unit, KB, MB, GB, TB or KiB, MiB, GiB, TiB (e.g. 512MB, 1.5GB, 2GiB)"
)

#: Every DuckDB database file carries this at byte offset 8 (after the header checksum).
_DUCKDB_MAGIC = (8, b"DUCK")
#: What a file that is not a DuckDB database looks like, by its first bytes: (offset, magic, description).
_FILE_KINDS = (
    (0, b"SQLite format 3\x00", "a SQLite database"),
    (0, b"\x1f\x8b", "gzip data"),
    (0, b"BZh", "bzip2 data"),
    (0, b"\xfd7zXZ\x00", "xz data"),
    (0, b"\x28\xb5\x2f\xfd", "zstd data"),
    (0, b"PK\x03\x04", "a zip archive"),
    (257, b"ustar", "a tar archive"),
    (0, b"PAR1", "a Parquet file"),
    (0, b"ARROW1", "an Arrow file"),
    (0, b"Obj\x01", "an Avro file"),
    (0, b"ORC", "an ORC file"),
    (0, b"%PDF", "a PDF document"),
    (0, b"\x7fELF", "an executable (ELF)"),
)


def describe_file(head: bytes) -> str:
    """What a file that starts with ``head`` (its first few KB) looks like, in a few words; never its content."""
    if not head:
        return "an empty file"
    for offset, magic, kind in (_DUCKDB_MAGIC + ("a DuckDB database",), *_FILE_KINDS):
        if head[offset : offset + len(magic)] == magic:
            return kind
    if b"\x00" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:  # a multi-byte character cut by the end of ``head`` is still text
            text = head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 else ""
        if text and sum(c.isprintable() or c in "\t\r\n" for c in text) >= 0.95 * len(text):
            return "JSON text" if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "text"
    return "binary data of an unknown kind"


def _is_duckdb_file(head: bytes) -> bool:
    offset, magic = _DUCKDB_MAGIC
    return head[offset : offset + len(magic)] == magic


def _require_database_file(path: Path) -> None:
    """Refuse a path that holds anything but a DuckDB database, before DuckDB opens (and writes) it."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there yet: DuckDB creates the database
    except OSError as exc:
        raise WarehouseUnavailable(f"cannot open the warehouse {path} (SPARKIFY_DUCKDB_PATH): {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        kind = "a directory"
    elif not stat.S_ISREG(mode):
        kind = "not a regular file (a device, a pipe or a socket)"
    else:
        try:
            with path.open("rb") as file:
                head = file.read(4096)
        except OSError as exc:
            raise WarehouseUnavailable(
                f"cannot read the warehouse {path} (SPARKIFY_DUCKDB_PATH): {exc.strerror}"
            ) from None
        if _is_duckdb_file(head):
            return
        kind = describe_file(head)
    # An empty file is refused too: DuckDB refuses it, and removing it could remove a database that another
    # process has just created and not yet written.
    remedy = "remove it, or point" if kind == "an empty file" else "point"
    raise WarehouseUnavailable(
        f"SPARKIFY_DUCKDB_PATH={path} is {kind}, not a DuckDB database (left as it is): {remedy} "
        "SPARKIFY_DUCKDB_PATH at a DuckDB database or at a path where nothing exists yet"
    )


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
    #: The held connection of the run whose create_tables verified the table layout (one catalogue query a run).
    _layout_verified_for: Any = PrivateAttr(default=None)

    @field_validator("path")
    @classmethod
    def _file_path(cls, path: str) -> str:
        """A file name, nothing DuckDB reads as another database (``:memory:``, ``md:...``, ``s3://...``)."""
        if not path.strip() or path.startswith(":") or _SCHEME.match(path) or _CONTROL.search(path) or len(path) > 4096:
            raise ValueError(
                f"SPARKIFY_DUCKDB_PATH={path[:200]!r} is not a database file path (a file name: no ':memory:', "
                "no 'md:' or other 'scheme:' prefix, no control characters)"
            )
        return path

    @field_validator("memory_limit", mode="before")  # "before": an EnvVar is still an EnvVar
    @classmethod
    def _memory_size(cls, value: Any) -> Any:
        """A size DuckDB reads as the user means it (DuckDB itself takes ``-1GB`` or ``80%`` as "80% of RAM"),
        normalized to ``<number><unit>``. An EnvVar is checked when the resource is initialized, with its value."""
        if isinstance(value, EnvVar) or not isinstance(value, str):
            return value
        match = _MEMORY.fullmatch(value.strip()) if len(value) < 40 else None
        unit = next((u for u in _MEMORY_UNITS if match and u.lower() == match.group(2).lower()), None)
        if (
            match is None
            or unit is None
            or not (_MEMORY_RANGE[0] <= float(match.group(1)) * _MEMORY_UNITS[unit] <= _MEMORY_RANGE[1])
        ):
            raise ValueError(f"SPARKIFY_DUCKDB_MEMORY_LIMIT={value[:40]!r} is not {MEMORY_LIMIT_FORM}")
        return f"{match.group(1)}{unit}"

    @property
    def engine_name(self) -> str:
        return "duckdb"

    def qualified_name(self, table: str) -> str:
        return f"main.{table}"

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
            _require_database_file(path)
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
    def create_tables(self) -> None:
        # The table layout is verified once a run (the run holds the database open), every time outside one.
        verified = self._held is not None and self._layout_verified_for is self._held
        with self.transaction() as connection:
            for statement in statements(read_sql(SQL / "create_tables.sql")):
                connection.execute(statement)
            if not verified:
                # Before the views, which would otherwise fail on a missing column in DuckDB's own words.
                catalogue = connection.execute(layout_query("main")).fetchall()
                verify_layout("main", SQL / "create_tables.sql", catalogue)
            for path in (SQL / "create_views.sql", SHARED_SQL / "create_star_views.sql"):
                for statement in statements(read_sql(path)):
                    connection.execute(statement)
        self._layout_verified_for = self._held

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
        days = {event_key(day): day for day in window.days}
        loader = _StagingLoad("parse_events.sql", "reject_events.sql", log)
        with self.transaction() as connection:
            for path, params in (
                (SHARED_SQL / "note_users_to_refresh.sql", {**window.sql_params, "since_day": None}),
                (SHARED_SQL / "clear_event_window.sql", window.sql_params),
            ):
                for statement in statements(read_sql(path), params):
                    connection.execute(statement)
            # Files are read and split into records in a background thread, SPLIT_AHEAD files ahead, while
            # DuckDB parses the batch before (DuckDB and Arrow's kernels release the interpreter lock).
            for key, size, records in in_background(_split_files(source, days), ahead=SPLIT_AHEAD):
                loader.add_file(connection, key, days[key], size, records)
                loader.progress(source.location(key))
            loads = loader.finish(connection)
            self.require_few_rejects(loads)
            since_window = {**window.sql_params, "since_day": window.start_day}
            for statement in statements(read_sql(SHARED_SQL / "note_users_to_refresh.sql"), since_window):
                connection.execute(statement)
        loader.summary(f"{source.location('log_data/')} {window}")
        return loads

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        loader = _StagingLoad("parse_songs.sql", "reject_songs.sql", log)
        keys: list[str] = []
        sizes: list[int] = []
        counts: list[int] = []
        records = RecordColumns()
        for key, data in source.read_many(source.song_keys()):
            before = len(records)
            split_into(records, data, key)
            keys.append(key)
            sizes.append(len(data))
            counts.append(len(records) - before)
        with self.transaction() as connection:
            for statement in statements(read_sql(SHARED_SQL / "clear_songs.sql")):
                connection.execute(statement)
            loader.add_files(connection, keys, [None] * len(keys), sizes, counts, records.table())
            loads = loader.finish(connection)
            self.require_few_rejects(loads, catalogue=source.location(SONG_PREFIX))
        loader.summary(source.location(SONG_PREFIX))
        return loads


def _split_files(source: SparkifySource, days: Mapping[str, date]) -> Iterator[tuple[str, int, pa.Table]]:
    """``(key, size, records)`` of each day file; a file's bytes are let go as soon as it is split."""
    for key, data in source.read_each(days):
        size, records = len(data), split_records(key, data).table
        del data  # not kept while this item waits for the consumer
        yield key, size, records


_DONE = object()


def in_background(items: Iterator[T], ahead: int) -> Iterator[T]:
    """Yield the items of ``items``, computed by a background thread at most ``ahead`` items ahead.

    "Ahead" counts the item being computed: with ``ahead=1`` the thread computes the next item while the
    consumer works on the current one, and waits for the consumer to take it before starting another, so
    memory holds two items at most (a day file's bytes and records are large). An exception of the producer
    is raised in the consumer at its turn; when the consumer stops early, the producer stops at its next item.
    """
    pending: queue.Queue[Any] = queue.Queue()
    slots = threading.Semaphore(ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            iterator = iter(items)
            while True:
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(iterator, _DONE)
                pending.put(item)
                if item is _DONE:
                    return
        except BaseException as exc:  # handed to the consumer
            pending.put(_Failure(exc))

    producer = threading.Thread(target=produce, name="sparkify-split", daemon=True)
    producer.start()
    try:
        while (item := pending.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.error
            slots.release()  # the producer may start on the next item while this one is used
            yield item
    finally:
        stop.set()
        producer.join()


@dataclass(frozen=True)
class _Failure:
    error: BaseException


@dataclass
class _StagingLoad:
    """One staging load inside its transaction: batches of records parsed into staging, per-file counts.

    The parse SQL inserts the valid records and says how many it inserted; only a batch where that is
    fewer than its records runs the reject SQL, which parses the batch again to keep the others in
    staging_rejects with their reason. Both classify records with the one table macro that
    `parse_*.sql` defines. Memory holds the batch being parsed and the files split ahead, whatever the
    number of files.
    """

    parse_sql: str
    reject_sql: str
    log: Log
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    started: float = field(default_factory=time.perf_counter)
    last_progress: float = field(default_factory=time.perf_counter)
    files: list[tuple[str, date | None, int]] = field(default_factory=list)  # key, day, records
    pending: list[pa.Table] = field(default_factory=list)
    pending_records: int = 0
    bytes_read: int = 0
    inserted: int = 0
    any_rejected: bool = False

    def add_file(
        self, connection: duckdb.DuckDBPyConnection, key: str, day: date | None, size: int, records: pa.Table
    ) -> None:
        self.add_files(connection, [key], [day], [size], [records.num_rows], records)

    def add_files(
        self,
        connection: duckdb.DuckDBPyConnection,
        keys: Sequence[str],
        days: Sequence[date | None],
        sizes: Iterable[int],
        counts: Sequence[int],
        records: pa.Table,
    ) -> None:
        """Queue the records of some files (in file order, ``counts[i]`` records for ``keys[i]``)."""
        self.files.extend(zip(keys, days, counts, strict=True))
        self.bytes_read += sum(sizes)
        if len(keys) == 1:
            source_keys = pa.repeat(pa.scalar(keys[0], pa.string()), counts[0])
            partition_days = pa.repeat(pa.scalar(days[0], pa.date32()), counts[0])
        else:
            source_keys = pa.array([k for k, n in zip(keys, counts, strict=True) for _ in range(n)], pa.string())
            partition_days = pa.array([d for d, n in zip(days, counts, strict=True) for _ in range(n)], pa.date32())
        batch = records.append_column("source_key", source_keys).append_column("partition_day", partition_days)
        self.pending.append(batch)
        self.pending_records += records.num_rows
        if self.pending_records >= BATCH_RECORDS:
            self.flush(connection)

    def flush(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Parse the queued records into staging (and, if any is bad, staging_rejects)."""
        if not self.pending:
            return
        batch = pa.concat_tables(self.pending)
        self.pending, self.pending_records = [], 0
        inserted = self._run(connection, self.parse_sql, batch)
        self.inserted += inserted
        if inserted < batch.num_rows:
            self.any_rejected = True
            self._run(connection, self.reject_sql, batch)

    def _run(self, connection: duckdb.DuckDBPyConnection, sql_file: str, batch: pa.Table) -> int:
        """Run a parse or reject SQL file over ``batch`` as `raw_records`; returns the rows it inserted.

        The batch is registered as a stream (a RecordBatchReader), which DuckDB consumes: a registered
        table would stay referenced by the open transaction until it commits, so every batch of a month
        would stay in memory. The stream's record batches are small enough for each of DuckDB's threads
        to take some.
        """
        stream = pa.RecordBatchReader.from_batches(batch.schema, batch.to_batches(max_chunksize=STREAM_CHUNK_ROWS))
        connection.register("raw_records", stream)
        try:
            inserted = 0
            # The typed-value macros first (json_values.sql): the parse and reject SQL use them.
            sql = read_sql(SQL / "json_values.sql") + read_sql(SQL / sql_file)
            for statement in statements(sql, {"loaded_at": self.loaded_at}):
                result = connection.execute(statement)
                if statement.startswith("INSERT"):
                    inserted += result.fetchall()[0][0]
            return inserted
        finally:
            connection.unregister("raw_records")

    def finish(self, connection: duckdb.DuckDBPyConnection) -> list[FileLoad]:
        """Flush, record the files in staging_files and say what each file loaded and rejected."""
        self.flush(connection)
        rejected: dict[str, int] = {}
        if self.any_rejected:
            rejected = {key: int(n) for key, n in connection.execute(_REJECTS_OF_LOAD, [self.loaded_at]).fetchall()}
        files = pa.table(
            {
                "source_key": pa.array([key for key, _, _ in self.files], pa.string()),
                "partition_day": pa.array([day for _, day, _ in self.files], pa.date32()),
                "records": pa.array([count for _, _, count in self.files], pa.int64()),
            }
        )
        connection.register("loaded_files", files)
        try:
            connection.execute(_RECORD_FILES, [self.loaded_at])
        finally:
            connection.unregister("loaded_files")
        loads = [FileLoad(key, day, n, n - rejected.get(key, 0), rejected.get(key, 0)) for key, day, n in self.files]
        if self.inserted + sum(rejected.values()) != sum(n for _, _, n in self.files):
            raise RuntimeError(
                f"staging load does not add up: {sum(n for _, _, n in self.files)} records read, "
                f"{self.inserted} loaded, {sum(rejected.values())} rejected"
            )
        return loads

    def progress(self, location: str) -> None:
        """A progress line at most every PROGRESS_SECONDS."""
        now = time.perf_counter()
        if now - self.last_progress >= PROGRESS_SECONDS:
            self.last_progress = now
            self.log(f"{location}: {len(self.files)} files read so far, {self._rate(now)}")

    def summary(self, location: str) -> None:
        records = sum(count for _, _, count in self.files)
        self.log(f"{location}: {len(self.files)} files, {records:,} records, {self._rate(time.perf_counter())}")

    def _rate(self, now: float) -> str:
        seconds = max(now - self.started, 1e-9)
        records = sum(count for _, _, count in self.files)
        return (
            f"{self.bytes_read / 1e6:,.1f} MB in {seconds:.2f} s "
            f"({records / seconds:,.0f} records/s, {self.bytes_read / 1e6 / seconds:,.1f} MB/s)"
        )
