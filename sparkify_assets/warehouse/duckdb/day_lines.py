"""Day files of a local source read by DuckDB's own parallel CSV reader, many days in one statement.

Python splitting a day file into records costs more than DuckDB's parse of them (issue 15). So DuckDB reads
the lines of the window's day files itself, `BATCH_BYTES` of files a statement (`sql/read_day_lines.sql`),
and parses the one-line records among them (``{`` to ``}``, the usual case) with the same rules as any
other record (`sql/parse_events.sql`). Meanwhile, in a thread of its own, Python scans each file
(`sources.slices.scan_in_slices`): it checks the file as a whole, counts its one-line records, and splits
the other lines itself (blank lines, objects of several lines, bad lines), with their line numbers; those
records go through the staging load's batches as before (`staging_load.py`).

DuckDB's read is checked afterwards, file by file. A file is split whole in Python instead, with the same
records, line numbers and reasons, and its rows taken out of staging again, when:

- the scan finds lines DuckDB's reader would not read as the Python splitter does (`records.scan_slice`),
  or the file is not JSON text at all (the split then raises the error);
- DuckDB loaded fewer of its one-line records than the scan counted: one was rejected (a rejected record is
  kept with its line number, which only the Python split gives), or the reader skipped a line it cannot
  read, such as one that is not UTF-8, rather than fail the load (`_loaded_per_file`);
- the file changed (another inode, size or modification time) between the first look at it and the end of
  both reads.

So a file loads exactly what the Python split of it loads, whichever reads it
(`sparkify_assets_tests/warehouse/duckdb/test_day_lines.py`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from sparkify_assets.sources.errors import SourceError
from sparkify_assets.sources.read_ahead import THREAD_NAME
from sparkify_assets.sources.records import ENGINE_LINE_BYTES
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.sources.slices import SLICE_BYTES, FileScan, scan_in_slices
from sparkify_assets.warehouse.duckdb.staging_load import StagingLoad
from sparkify_assets.warehouse.sql import read_sql, statements

SQL = Path(__file__).parent / "sql"

#: About this many bytes of day files in one statement (a month at 1M events; 3 or 4 days at 10M). DuckDB reads
#: the files of a statement in parallel and each statement has costs of its own (planning, the rules' macros,
#: the insert's commit), so fewer, larger statements cost less (at 1M, statements of 64 MB took a third more
#: CPU than one); memory does not grow with it, DuckDB streams the files.
BATCH_BYTES = 512 * 1024 * 1024
#: A path DuckDB's readers would take as a glob pattern is not given to them.
_GLOB_CHARACTERS = frozenset("*?[]{}")

_LOADED_PER_FILE = """
SELECT staging_events.source_key, COUNT(*)
FROM staging_events
JOIN (SELECT unnest(?) AS source_key, unnest(?) AS partition_day) AS batch USING (source_key, partition_day)
GROUP BY staging_events.source_key
"""
_FORGET_FILE = "DELETE FROM staging_events WHERE source_key = ? AND partition_day = ?"

Version = tuple[int, int, int]
T = TypeVar("T")


def readable_paths(source: SparkifySource, days: Mapping[str, date]) -> dict[str, str] | None:
    """The path of each day file (by key) when DuckDB may read them itself: a local source whose paths are not
    glob patterns to DuckDB. ``None`` otherwise (an S3 source is read through the S3 resource only)."""
    paths = {key: source.local_file(key) for key in days}
    if any(path is None or _GLOB_CHARACTERS.intersection(path) for path in paths.values()):
        return None
    return {key: path for key, path in paths.items() if path is not None}


def file_version(path: str) -> Version | None:
    """What tells one version of a file from the next: inode, size, modification time. ``None`` for what is not
    a file this process may read (missing, a folder, no read permission): the Python split of it raises the
    source's own error, where DuckDB's reader would fail the whole statement."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or not os.access(path, os.R_OK):
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


def load_day_files(
    connection: duckdb.DuckDBPyConnection,
    loader: StagingLoad,
    source: SparkifySource,
    days: Mapping[str, date],
    paths: Mapping[str, str],
) -> list[str]:
    """Load the one-line records of the day files ``days`` (by key; ``paths``: each one's path) with DuckDB's
    reader, `BATCH_BYTES` of files a statement, and queue their other records in ``loader``. Returns the keys
    of the files to split whole in Python instead (see the module), in the order of ``days``; none of their
    rows is in staging."""
    versions = {key: file_version(paths[key]) for key in days}
    present = [key for key in days if versions[key] is not None]
    kept: set[str] = set()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME) as pool:
        # One thread scans the files in order, ahead of DuckDB, which releases the interpreter lock while it
        # runs a statement: the scan goes on beside it.
        scans = {key: pool.submit(_scan, source, key) for key in present}
        try:
            for batch in _batches(present, versions):
                inserted = _read_with_duckdb(connection, loader, batch, days, paths)
                # The files DuckDB's reader splits as their scan does, unchanged since.
                agreed: dict[str, FileScan] = {}
                for key in batch:
                    scan = scans.pop(key).result()
                    if scan is not None and scan.unreadable is None and file_version(paths[key]) == versions[key]:
                        agreed[key] = scan
                counted = {key: scan.plain_lines for key, scan in agreed.items()}
                loaded = _loaded_per_file(connection, batch, days, inserted, counted)
                for key in batch:
                    scan = agreed.get(key)
                    if scan is not None and loaded[key] == scan.plain_lines:
                        loader.add_loaded_file(connection, key, days[key], scan.size, scan.plain_lines, scan.others)
                        loader.progress(source.location(key))
                        kept.add(key)
                    elif loaded[key]:
                        connection.execute(_FORGET_FILE, [key, days[key]])
        finally:
            for scan in scans.values():  # after an error: the files not scanned yet need no scan
                scan.cancel()
    return [key for key in days if key not in kept]


def _batches(keys: list[str], versions: Mapping[str, Version | None]) -> Iterator[list[str]]:
    """``keys`` in order, in batches of about `BATCH_BYTES` (by their size), each at least one file."""
    batch: list[str] = []
    size = 0
    for key in keys:
        version = versions[key]
        batch.append(key)
        size += version[1] if version is not None else 0
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _scan(source: SparkifySource, key: str) -> FileScan | None:
    """The file scanned (`scan_in_slices`), or ``None`` when reading it failed: the Python split of the file
    then raises the error, in the order of the files."""
    try:
        return scan_in_slices(key, source.read_chunks(key, SLICE_BYTES))
    except (SourceError, OSError):
        return None


def _read_with_duckdb(
    connection: duckdb.DuckDBPyConnection,
    loader: StagingLoad,
    keys: list[str],
    days: Mapping[str, date],
    paths: Mapping[str, str],
) -> int:
    """DuckDB reads the one-line records of the files ``keys`` into staging in one statement. Returns how many
    records it loaded."""
    if not keys:
        return 0
    connection.register(
        "day_files",
        pa.table(
            {
                "path": pa.array([paths[key] for key in keys], pa.string()),
                "source_key": pa.array(keys, pa.string()),
                "partition_day": pa.array([days[key] for key in keys], pa.date32()),
            }
        ),
    )
    try:
        connection.execute("SET VARIABLE day_file_paths = ?", [[paths[key] for key in keys]])
        for statement in statements(read_sql(SQL / "read_day_lines.sql"), {"max_line_bytes": 2 * ENGINE_LINE_BYTES}):
            connection.execute(statement)
        return _reading(paths, lambda: loader.run_sql(connection, loader.parse_sql))
    finally:
        for view in ("raw_records", "day_lines"):
            connection.execute(f"DROP VIEW IF EXISTS {view}")
        connection.unregister("day_files")


def _loaded_per_file(
    connection: duckdb.DuckDBPyConnection,
    keys: list[str],
    days: Mapping[str, date],
    inserted: int,
    counted: Mapping[str, int],
) -> dict[str, int]:
    """How many records DuckDB's statement over the files ``keys`` loaded from each (by key), given the
    ``inserted`` of them all and the one-line records ``counted`` by the scans of those DuckDB's reader reads
    as their scan does.

    Such a file loads at most its scan's count: DuckDB loads only lines its reader saw start with ``{`` and
    end with ``}``, and those are the scan's one-line records (`records.scan_slice` passes a file only when the
    reader ends and reads its lines as the scan does). So when every file was counted and the statement
    inserted as many records as the scans counted in all, each file loaded all of its own, and staging need
    not be read again; otherwise (a rejected record, a line the reader skipped, a file not counted) the rows
    of each file are counted.
    """
    if len(counted) == len(keys) and inserted == sum(counted.values()):
        return dict(counted)
    loaded = dict(connection.execute(_LOADED_PER_FILE, [keys, [days[key] for key in keys]]).fetchall())
    return {key: loaded.get(key, 0) for key in keys}


def _reading(paths: Mapping[str, str], read: Callable[[], T]) -> T:
    """``read()``, with DuckDB failing to open a day file (removed since it was first looked at) as the source's
    error naming the files."""
    try:
        return read()
    except duckdb.IOException as exc:
        missing = sorted(path for path in paths.values() if not os.path.exists(path))
        raise SourceError(f"cannot read the day files {', '.join(missing) or sorted(paths.values())}: {exc}") from exc
