"""Day files of a local source read by DuckDB's own parallel CSV reader, a batch of files in one statement.

Python splitting a day file into records costs more than DuckDB's parse of them (issue 15). So Python only
scans each file (`sources.slices.scan_in_slices`): it checks the file as a whole, counts the lines that
are records of their own (``{`` to ``}``, the usual case) and splits the rest itself (blank lines, objects
of several lines, bad lines), with their line numbers. DuckDB reads the one-line records of the files
itself (`sql/read_day_lines.sql`) and parses them with the same rules (`sql/parse_events.sql`) as any other
record; the records Python split go through the staging load's batches as before (`staging_load.py`).

A file falls back to being split whole in Python, with the same records, line numbers and reasons, when:

- the scan finds lines DuckDB's reader would not read as the Python splitter does (`records.scan_slice`);
- DuckDB's reader sees another number of one-line records in it than the scan counted;
- one of its one-line records is rejected: a rejected record is kept with its line number, which only the
  Python split gives (the file's rows are taken out of staging again first);
- the file changed (another inode, size or modification time) between the scan and DuckDB's read.

So a file loads exactly what the Python split of it loads, whichever reads it
(`sparkify_assets_tests/warehouse/duckdb/test_day_lines.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from sparkify_assets.sources.records import ENGINE_LINE_BYTES
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.sources.slices import SLICE_BYTES, FileScan, scan_in_slices
from sparkify_assets.warehouse.duckdb.staging_load import StagingLoad
from sparkify_assets.warehouse.sql import read_sql, statements

SQL = Path(__file__).parent / "sql"

#: About this many bytes of day files in one statement: DuckDB reads the files of a statement in parallel
#: (a file of a few MB with one thread), and each statement has a cost of its own.
BATCH_BYTES = 64 * 1024 * 1024
#: A path DuckDB's readers would take as a glob pattern is not given to them.
_GLOB_CHARACTERS = frozenset("*?[]{}")

_LOADED_PER_FILE = """
SELECT day_files.path, COUNT(staging_events.source_key)
FROM day_files
LEFT JOIN staging_events
    ON staging_events.source_key = day_files.source_key AND staging_events.partition_day = day_files.partition_day
GROUP BY day_files.path
"""
_FORGET_FILE = "DELETE FROM staging_events WHERE source_key = ? AND partition_day = ?"


@dataclass(frozen=True)
class LocalDayFile:
    """A scanned day file of a local source: its scan, day and path, and the version of the file scanned."""

    scan: FileScan
    day: date
    path: str
    version: tuple[int, int, int] | None  # inode, size, modification time (ns) before the scan

    @property
    def key(self) -> str:
        return self.scan.key


def readable_paths(source: SparkifySource, days: Mapping[str, date]) -> dict[str, str] | None:
    """The path of each day file (by key) when DuckDB may read them itself: a local source whose paths are not
    glob patterns to DuckDB. ``None`` otherwise (an S3 source is read through the S3 resource only)."""
    paths = {key: source.local_file(key) for key in days}
    if any(path is None or _GLOB_CHARACTERS.intersection(path) for path in paths.values()):
        return None
    return {key: path for key, path in paths.items() if path is not None}


def scanned_day_files(
    source: SparkifySource, days: Mapping[str, date], paths: Mapping[str, str]
) -> Iterator[LocalDayFile]:
    """Each day file, scanned (`scan_in_slices`), read a slice's worth at a time."""
    for key, day in days.items():
        version = file_version(paths[key])
        scan = scan_in_slices(key, source.read_chunks(key, SLICE_BYTES))
        yield LocalDayFile(scan, day, paths[key], version)


def file_version(path: str) -> tuple[int, int, int] | None:
    """What tells one version of a file from the next: inode, size, modification time; ``None`` when it cannot
    be read (reading it then raises the source's own error)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


def load_day_lines(
    connection: duckdb.DuckDBPyConnection, loader: StagingLoad, files: list[LocalDayFile]
) -> list[LocalDayFile]:
    """Load the one-line records of ``files`` (scanned, readable) with DuckDB's reader in one statement, and
    queue their other records in ``loader``. Returns the files to split whole in Python instead (see the
    module), whose rows are not in staging."""
    if not files:
        return []
    connection.register(
        "day_files",
        pa.table(
            {
                "path": pa.array([file.path for file in files], pa.string()),
                "source_key": pa.array([file.key for file in files], pa.string()),
                "partition_day": pa.array([file.day for file in files], pa.date32()),
            }
        ),
    )
    try:
        _set_paths(connection, files)
        for statement in statements(read_sql(SQL / "read_day_lines.sql"), {"max_line_bytes": 2 * ENGINE_LINE_BYTES}):
            connection.execute(statement)
        (count_lines,) = statements(read_sql(SQL / "count_day_lines.sql"))
        seen = dict(connection.execute(count_lines).fetchall())
        agreed = [file for file in files if seen.get(file.path, 0) == file.scan.plain_lines]
        if len(agreed) < len(files):
            _set_paths(connection, agreed)
        inserted = loader.run_sql(connection, loader.parse_sql) if agreed else 0
        loaded = {file.path: file.scan.plain_lines for file in agreed}
        if inserted < sum(loaded.values()):  # a record was rejected: which files?
            loaded = {path: n for path, n in connection.execute(_LOADED_PER_FILE).fetchall() if path in loaded}
        kept: list[LocalDayFile] = []
        for file in agreed:
            if loaded[file.path] == file.scan.plain_lines and file_version(file.path) == file.version:
                kept.append(file)
            elif loaded[file.path]:
                connection.execute(_FORGET_FILE, [file.key, file.day])
    finally:
        for view in ("raw_records", "day_lines"):
            connection.execute(f"DROP VIEW IF EXISTS {view}")
        connection.unregister("day_files")
    for file in kept:
        loader.add_loaded_file(connection, file.key, file.day, file.scan.size, file.scan.plain_lines, file.scan.others)
    kept_keys = {file.key for file in kept}
    return [file for file in files if file.key not in kept_keys]


def _set_paths(connection: duckdb.DuckDBPyConnection, files: list[LocalDayFile]) -> None:
    """The files `read_day_lines.sql` reads (a list its view reads when it runs)."""
    connection.execute("SET VARIABLE day_file_paths = ?", [[file.path for file in files]])
