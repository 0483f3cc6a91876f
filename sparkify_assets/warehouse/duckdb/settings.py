"""The embedded warehouse's settings and what they may hold: SPARKIFY_DUCKDB_PATH (a DuckDB database, or
nothing yet) and SPARKIFY_DUCKDB_MEMORY_LIMIT (a size DuckDB reads as meant). Checked when the resource is
configured or set up, before anything is written."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

from dagster import EnvVar

from sparkify_assets.warehouse.duckdb.memory import normalized

#: What DuckDB would read as a URL or a catalogue (``md:``, ``s3://``) rather than a file, and control characters.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be opened for writing."""


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


def require_database_file(path: Path) -> None:
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


def database_path(path: str) -> str:
    """A file name, nothing DuckDB reads as another database (``:memory:``, ``md:...``, ``s3://...``)."""
    if not path.strip() or path.startswith(":") or _SCHEME.match(path) or _CONTROL.search(path) or len(path) > 4096:
        raise ValueError(
            f"SPARKIFY_DUCKDB_PATH={path[:200]!r} is not a database file path (a file name: no ':memory:', "
            "no 'md:' or other 'scheme:' prefix, no control characters)"
        )
    return path


def memory_limit(value: Any) -> Any:
    """A size DuckDB reads as the user means it (`memory.normalized`). An EnvVar is checked when the resource is
    initialized, with its value."""
    if isinstance(value, EnvVar) or not isinstance(value, str):
        return value
    return normalized(value)
