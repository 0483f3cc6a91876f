"""A day file in bounded slices: memory holds a slice or two of a file, not the file.

A file is read in pieces (`SparkifySource.read_chunks`) and cut into slices of about `SLICE_BYTES`, each
split into records on its own (`records.split_slice`) with the line numbers of the whole file. The records
are exactly those of the whole file split at once (`sparkify_assets_tests/sources/test_slices.py`), because
a slice ends only where no record can go on:

- after a line whose last character (JSON whitespace aside) is ``}``, and before a line that starts with
  ``{``. After a ``}``, JSON allows only ``,``, ``}``, ``]`` or the end of the value, so no object, however
  it started, continues through a line that starts with ``{``: decoding one fails there at the latest;
- the line after the cut (the *lookahead*) is also given to the slice before it, so such a failure is met
  at the same place, with the same message, as in the whole file; a record starting on it is the next
  slice's.

A slice starts with ``{``, so no line of it needs the lines before the cut (a line that does not start with
``{`` may continue the object of the line before it, `records._split_others`). A record larger than a slice
(a 200 MB line) makes a slice of its own size: memory then holds that record, and DuckDB needs several times
its size to parse it (SPARKIFY_DUCKDB_MEMORY_LIMIT).

The file as a whole (is it JSON text at all?) is checked by `records.JsonTextCheck` as it is read.

`scan_in_slices` reads a file the same way for a warehouse engine that reads its one-line records itself
(`records.scan_slice`): it keeps only the other records, and counts the one-line ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from sparkify_assets.sources.records import RECORD_SCHEMA, JsonTextCheck, scan_slice, split_slice

#: About this many bytes of a file in one slice (and read from the source at a time).
SLICE_BYTES = 16 * 1024 * 1024
_SPACE = b" \t\r"


@dataclass(frozen=True)
class Slice:
    """A slice of a file: ``data[:end]``, ending with the lookahead line if ``lookahead``, of which the first
    ``size`` bytes are the slice's own (the lookahead line is the next slice's), holding ``newlines`` line
    feeds (counted for a slice that is cut, not for the last); the line number of its first line."""

    data: bytes
    end: int
    size: int
    first_line: int
    lookahead: bool
    newlines: int | None


@dataclass(frozen=True)
class SliceRecords:
    """The records (`records.RECORD_SCHEMA`) of one slice of the file ``key``; ``last``: the file's last
    slice (an empty file has one, with no records)."""

    key: str
    records: pa.Table
    size: int
    last: bool


def cut_slices(chunks: Iterable[bytes], slice_bytes: int = SLICE_BYTES) -> Iterator[Slice]:
    """The slices of the file read as ``chunks`` (see the module); the last one has no lookahead. A chunk
    is not copied unless the end of the slice before it is carried over: a file read in one chunk is one
    slice, its bytes as read."""
    buffer = b""
    first_line = 1
    searched = 0  # a buffer shorter than this had no cut: look again only once it has grown past it
    for chunk in chunks:
        buffer = buffer + chunk if buffer else chunk
        while len(buffer) >= max(slice_bytes, searched):
            cut = _cut(buffer)
            if cut is None:
                searched = len(buffer) + slice_bytes  # one record longer than a slice: read on
                break
            newline, line_end = cut
            newlines = buffer.count(b"\n", 0, newline + 1)
            yield Slice(buffer, line_end, newline + 1, first_line, lookahead=True, newlines=newlines)
            first_line += newlines
            buffer = buffer[newline + 1 :]
            searched = 0
    yield Slice(buffer, len(buffer), len(buffer), first_line, lookahead=False, newlines=None)


def _cut(buffer: bytes) -> tuple[int, int] | None:
    """The last place ``buffer`` may be cut: the line feed before a line that starts with ``{`` after one
    that ends with ``}``, with the line after it whole in ``buffer`` (the position of that line feed, and of
    the end of the line after it); ``None`` when there is none."""
    position = buffer.rfind(b"\n")  # the lines before this line feed are whole
    while position > 0:
        newline = buffer.rfind(b"\n{", 0, position)
        if newline <= 0:
            return None
        line_start = buffer.rfind(b"\n", 0, newline) + 1
        if buffer[line_start:newline].rstrip(_SPACE).endswith(b"}"):
            return newline, buffer.find(b"\n", newline + 1)
        position = newline
    return None


def split_in_slices(key: str, chunks: Iterable[bytes], slice_bytes: int = SLICE_BYTES) -> Iterator[SliceRecords]:
    """The records of the file ``key`` (read as ``chunks``), a slice at a time.

    Raises `NotJsonText` naming ``key`` when the file is not JSON text: at once for what its first bytes
    show (a compressed file), after its last slice for what needs the whole file (its NUL bytes, its last
    character); the caller's transaction then drops what the slices loaded. Binary data (a run of NUL
    bytes) is not split further once seen.
    """
    check = JsonTextCheck(key)
    pieces = iter(chunks)
    for piece in cut_slices(_checked_start(check, pieces), slice_bytes):
        check.feed(piece.data, piece.size, piece.newlines)
        if check.refused:
            for rest in pieces:  # counted for the message, not split
                check.feed(rest)
            check.finish()
        records = split_slice(piece.data, piece.first_line, piece.lookahead, piece.end)
        if not piece.lookahead:
            check.finish()
        yield SliceRecords(key, records, piece.size, last=not piece.lookahead)


@dataclass(frozen=True)
class FileScan:
    """A file as `scan_in_slices` finds it: ``size`` bytes, ``plain_lines`` one-line records for the engine to
    read itself, the records of its other lines (``others``, `records.RECORD_SCHEMA`, in line order of their
    slices); or, ``unreadable``, why the engine may not read it (then nothing else is set: split the file)."""

    key: str
    size: int
    plain_lines: int
    others: pa.Table
    unreadable: str | None = None


def scan_in_slices(key: str, chunks: Iterable[bytes], slice_bytes: int = SLICE_BYTES) -> FileScan:
    """`split_in_slices` for an engine that reads the file's one-line records itself (`records.scan_slice`).

    Raises `NotJsonText` as `split_in_slices` does, once the file is read whole. Stops reading at the first
    slice the engine may not read: the file is then split by `split_in_slices`, which checks it again.
    """
    check = JsonTextCheck(key)
    size = plain_lines = 0
    others: list[pa.Table] = []
    for piece in cut_slices(_checked_start(check, chunks), slice_bytes):
        check.feed(piece.data, piece.size, piece.newlines)
        scan = scan_slice(piece.data, piece.first_line, piece.lookahead, piece.end)
        if scan.unreadable is not None:
            return FileScan(key, 0, 0, RECORD_SCHEMA.empty_table(), unreadable=scan.unreadable)
        size += piece.size
        plain_lines += scan.plain_lines
        others.append(scan.others)
        if not piece.lookahead:
            check.finish()
    return FileScan(key, size, plain_lines, pa.concat_tables(others))


def _checked_start(check: JsonTextCheck, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks``, each shown to ``check`` first: a file whose first bytes show it is not JSON text fails at once."""
    for chunk in chunks:
        check.check_start(chunk)
        yield chunk
