"""The embedded warehouse: one DuckDB file.

Staging reads each source file once in Python (`sources.records` finds its records with Arrow kernels)
and hands the records to DuckDB as Arrow, a batch of files at a time (`staging_load.py`); DuckDB's JSON
parser does the typing and validation in SQL (`sql/parse_*.sql`), parsing each record once on the way
into staging.
Every load or transform is one transaction. A DuckDB file has one writer at a time: a second process
gets a clear error instead of a partial write.

While a Dagster run executes, the resource holds the database open (`setup_for_execution`), so the
connection each step and check opens joins the open database instead of opening the file again (and
checkpointing it on every close).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from dagster import EnvVar, Failure, InitResourceContext
from pydantic import Field, PrivateAttr, field_validator

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import SONG_PREFIX, event_key
from sparkify_assets.sources.read_ahead import read_ahead
from sparkify_assets.sources.records import RecordColumns, split_into, split_records
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.duckdb.staging_load import SplitFile, StagingLoad
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Log, Warehouse, run_file
from sparkify_assets.warehouse.sql import SqlValue, statements

SQL = Path(__file__).parent / "sql"

#: Files read and split ahead of the batch DuckDB is parsing (each holds its records in memory).
SPLIT_AHEAD = 1


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

    @property
    def table_schema(self) -> str:
        return "main"

    @property
    def engine_sql(self) -> Path:
        return SQL

    @property
    def session(self) -> Any:
        return self._held

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
        loader = StagingLoad(SQL / "parse_events.sql", SQL / "reject_events.sql", log)
        with self.transaction() as connection:
            run_file(connection, SHARED_SQL / "note_users_to_refresh.sql", {**window.sql_params, "since_day": None})
            run_file(connection, SHARED_SQL / "clear_event_window.sql", window.sql_params)
            # Each day file is read (`read_each`, one ahead) and split into records in threads, SPLIT_AHEAD
            # files ahead, while DuckDB parses the batch before (DuckDB and Arrow's kernels release the
            # interpreter lock).
            for key, size, records in read_ahead(_split_file, source.read_each(days), ahead=SPLIT_AHEAD):
                loader.add(connection, [SplitFile(key, days[key], size, records.num_rows)], records)
                loader.progress(source.location(key))
            loads = loader.finish(connection)
            self.require_few_rejects(loads)
            since_window = {**window.sql_params, "since_day": window.start_day}
            run_file(connection, SHARED_SQL / "note_users_to_refresh.sql", since_window)
        loader.summary(f"{source.location('log_data/')} {window}")
        return loads

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        loader = StagingLoad(SQL / "parse_songs.sql", SQL / "reject_songs.sql", log)
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


def _split_file(read: tuple[str, bytes]) -> tuple[str, int, pa.Table]:
    """``(key, size, records)`` of a day file that `read_each` read; its bytes are let go once it is split."""
    key, data = read
    return key, len(data), split_records(key, data).table
