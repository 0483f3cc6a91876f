"""A day file split a slice at a time gives exactly the records of the whole file split at once."""

from __future__ import annotations

import gzip
import json
from unittest.mock import patch

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkify_assets.sources import records
from sparkify_assets.sources.errors import NotJsonText
from sparkify_assets.sources.records import split_records
from sparkify_assets.sources.slices import cut_slices, scan_in_slices, split_in_slices
from sparkify_assets_tests.sources.test_records import _PIECES

Row = tuple[int, str, str | None]


def whole(data: bytes) -> list[Row] | str:
    """The records of a file split at once (in line order), or why it is refused."""
    try:
        split = split_records("k", data)
    except NotJsonText as exc:
        return str(exc)
    return list(zip(split.line_numbers, split.texts, split.errors, strict=True))


def sliced(data: bytes, slice_bytes: int, chunk_bytes: int) -> list[Row] | str:
    """The records of the same file read in chunks of ``chunk_bytes`` and split in slices."""
    chunks = [data[start : start + chunk_bytes] for start in range(0, len(data), chunk_bytes)]
    try:
        tables = [piece.records for piece in split_in_slices("k", chunks, slice_bytes)]
    except NotJsonText as exc:
        return str(exc)
    table = pa.concat_tables(tables).sort_by("line_number")
    columns = (table.column(name).to_pylist() for name in ("line_number", "raw_text", "scan_error"))
    return list(zip(*columns, strict=True))


@given(
    lines=st.lists(st.sampled_from(_PIECES), max_size=40),
    bom=st.booleans(),
    bad_byte=st.booleans(),
    slice_bytes=st.integers(1, 200),
    chunk_bytes=st.integers(1, 300),
    arrow=st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_slices_give_the_records_of_the_whole_file(
    lines: list[str], bom: bool, bad_byte: bool, slice_bytes: int, chunk_bytes: int, arrow: bool
) -> None:
    """SPEC.md, "Bad records": the same records, line numbers and reasons however the file is cut (slices of
    a few bytes cut it wherever a cut is allowed), by either splitter."""
    data = ("\ufeff" if bom else "").encode() + "\n".join(lines).encode()
    if bad_byte:
        data = data.replace(b"1", b"\xff", 1)
    expected = whole(data)
    with patch.object(records, "ARROW_SPLIT_BYTES", 0 if arrow else records.ARROW_SPLIT_BYTES):
        assert sliced(data, slice_bytes, chunk_bytes) == expected


def test_a_slice_ends_only_before_a_line_that_starts_an_object_after_one_that_ends_one() -> None:
    lines = [b'{"a": 1}', b'{"b": [', b'{"c": 2}', b"]}", b"", b'{"d": 3}', b'{"e": 4}']
    chunks = [line + b"\n" for line in lines]  # read a line at a time, each slice as short as allowed
    cuts = [(piece.first_line, piece.data[: piece.end], piece.lookahead) for piece in cut_slices(chunks, slice_bytes=1)]
    # Not inside the object of lines 2-4 (line 3 starts with "{" after a line ending "["), nor after the
    # blank line 5; each slice but the last ends with the line after its cut, which the next one starts with.
    assert cuts == [
        (1, b'{"a": 1}\n{"b": [', True),
        (2, b'{"b": [\n{"c": 2}\n]}\n\n{"d": 3}\n{"e": 4}', True),
        (7, b'{"e": 4}\n', False),
    ]


def test_a_file_refused_as_a_whole_is_refused_whichever_slice_shows_it() -> None:
    """NotJsonText names the file: a compressed file at its first bytes, NUL-ridden data after its last slice."""
    plain = b"".join(json.dumps({"n": n}).encode() + b"\n" for n in range(2000))
    assert sliced(gzip.compress(plain), 1000, 100) == whole(gzip.compress(plain))
    zeroed = plain + b"\0" * 4096 + plain
    assert sliced(zeroed, 1000, 100) == whole(zeroed)
    assert "NUL bytes" in str(whole(zeroed))
    sparse = plain.replace(b"}\n", b"}\0\n")  # a NUL byte on every line: more than one for every two lines
    assert sliced(sparse, 1000, 100) == whole(sparse)
    assert "NUL bytes (the first on line 1)" in str(whole(sparse))
    stray = plain[:5000] + b"\0" + plain[5000:]  # one NUL byte: a bad record, not a refused file
    assert sliced(stray, 1000, 100) == whole(stray)
    assert isinstance(whole(stray), list)
    array = b"[\n" + plain.replace(b"}\n", b"},\n") + b"{}]\n"
    assert sliced(array, 1000, 100) == whole(array)


@pytest.mark.parametrize("slice_bytes", [64, 4096])
def test_a_record_longer_than_a_slice_is_one_slice(slice_bytes: int) -> None:
    big = json.dumps({"s": "x" * 10_000}).encode()
    data = b'{"a": 1}\n' + big + b'\n{"b": 2}\n'
    assert sliced(data, slice_bytes, 100) == whole(data)


def test_slices_stay_about_the_slice_size_whatever_the_file_size() -> None:
    """Memory holds a slice or two of a day file, not the file: every slice of a 2 MB file read in 64 KB pieces
    is under two slice sizes, and together they are the file."""
    lines = [json.dumps({"ts": n, "page": "NextSong", "pad": "x" * (n % 300)}).encode() for n in range(12_000)]
    data = b"\n".join(lines) + b"\n"
    chunk = slice_bytes = 64 * 1024
    pieces = list(split_in_slices("k", [data[i : i + chunk] for i in range(0, len(data), chunk)], slice_bytes))
    assert len(data) > 30 * slice_bytes and len(pieces) > 15
    assert max(piece.size for piece in pieces) < 2 * slice_bytes
    assert sum(piece.size for piece in pieces) == len(data)
    assert sum(piece.records.num_rows for piece in pieces) == len(lines) and pieces[-1].last


@given(
    lines=st.lists(st.sampled_from(_PIECES), max_size=40),
    slice_bytes=st.integers(1, 200),
    chunk_bytes=st.integers(1, 300),
)
@settings(max_examples=200, deadline=None)
def test_a_scan_in_slices_is_the_split_without_its_one_line_records(
    lines: list[str], slice_bytes: int, chunk_bytes: int
) -> None:
    """`scan_in_slices` (what DuckDB's reader leaves to Python) over slices of a few bytes, each a view of a
    larger buffer: when it finds the file readable, its records are the whole file's records that are not
    one-line records, and it counts the one-line records; otherwise the whole split refuses the file, or
    would have to look at its lines itself."""
    data = "\n".join(lines).encode()
    expected = whole(data)
    chunks = [data[start : start + chunk_bytes] for start in range(0, len(data), chunk_bytes)]
    try:
        scan = scan_in_slices("k", chunks, slice_bytes)
    except NotJsonText as exc:
        assert str(exc) == expected
        return
    if scan.unreadable is not None:
        return
    assert not isinstance(expected, str)
    one_line = [row for row in expected if row[2] is None and _is_one_line(data, row)]
    others = scan.others.sort_by("line_number")
    columns = (others.column(name).to_pylist() for name in ("line_number", "raw_text", "scan_error"))
    assert scan.plain_lines == len(one_line)
    assert sorted(list(zip(*columns, strict=True)) + one_line) == sorted(expected)


def _is_one_line(data: bytes, row: Row) -> bool:
    """Whether the record is its line, as written, from ``{`` to ``}`` (a CR LF line end aside): one DuckDB's
    reader loads."""
    line = data.split(b"\n")[row[0] - 1].removesuffix(b"\r").decode()
    return line == row[1] and line.startswith("{") and line.endswith("}")
