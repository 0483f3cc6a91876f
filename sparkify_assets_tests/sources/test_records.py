"""Splitting a source file into records: line numbers, blank lines, multi-line objects, bad lines."""

from __future__ import annotations

import json
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from sparkify_assets.sources import records
from sparkify_assets.sources.records import split_records


def rows(data: bytes) -> list[tuple[int, str, str | None]]:
    records = split_records("k", data)
    return list(zip(records.line_numbers, records.texts, records.errors, strict=True))


def test_one_object_per_line_passes_through_with_line_numbers() -> None:
    assert rows(b'{"a":1}\n{"a":2}\n') == [(1, '{"a":1}', None), (2, '{"a":2}', None)]


def test_blank_lines_are_not_records_but_count_as_lines() -> None:
    assert rows(b'\n{"a":1}\n   \n\n{"a":2}') == [(2, '{"a":1}', None), (5, '{"a":2}', None)]


def test_multi_line_object_is_one_record_at_its_first_line() -> None:
    text = '{"a": 1}\n' + json.dumps({"b": 2, "c": [1, 2]}, indent=4) + '\n{"d": 3}\n'
    (first, multi, last) = rows(text.encode())
    assert first == (1, '{"a": 1}', None)
    assert multi[0] == 2 and json.loads(multi[1]) == {"b": 2, "c": [1, 2]} and multi[2] is None
    assert last[0] == 2 + len(json.dumps({"b": 2, "c": [1, 2]}, indent=4).splitlines())


def test_bad_lines_are_records_with_a_reason_and_do_not_swallow_the_next_line() -> None:
    result = rows(b'{"a": 1, "b":\n{"ok": true}\n123\n{"c": 1} trailing\n')
    assert [(line, error is None) for line, _, error in result] == [(1, False), (2, True), (3, False), (4, False)]
    assert result[0][1] == '{"a": 1, "b":' and result[0][2].startswith("not valid JSON")
    assert result[2][2] == "not a JSON object (a JSON int)"
    assert result[3][2] == "not valid JSON: extra data after the object"


def test_bom_and_crlf_line_ends() -> None:
    assert rows(b'\xef\xbb\xbf{"a":1}\r\n{"a":2}\r\n') == [(1, '{"a":1}', None), (2, '{"a":2}', None)]


def test_invalid_utf8_rejects_only_that_line() -> None:
    result = rows(b'{"a":1}\n{"a":"\xff"}\n{"a":3}\n')
    assert [(line, error is None) for line, _, error in result] == [(1, True), (2, False), (3, True)]
    assert result[1][2] == "not valid UTF-8 (byte 6 of the line)"


def test_empty_file_has_no_records() -> None:
    assert rows(b"") == [] and rows(b"\n\n") == []


#: Lines a source file can hold: plain records, blank lines, pieces of multi-line objects, bad lines.
_PIECES = (
    '{"a": 1}', '  {"a": 1}  ', '{"a": 1}\r', '\r', '', '   ', '{', '}', '{"a":', '1}', '"x"', '123', '[1, 2]',
    'null', '{"a": 1} trailing', '{"s": "abc', 'def"}', '{"a": [', ']}', '{"é": "\u2028"}', '\x1c{"a": 1}\x1c',
    json.dumps({"b": 2, "c": [1, {"d": 3}]}, indent=2), json.dumps({"k": {"n": {"m": 1}}}, indent=4),
)  # fmt: skip


@given(
    lines=st.lists(st.sampled_from(_PIECES), max_size=40),
    bom=st.booleans(),
    bad_byte=st.booleans(),
    object_lines=st.sampled_from([1, 2, 64]),
)
@settings(max_examples=300, deadline=None)
def test_large_files_give_the_same_records_as_small_files(
    lines: list[str], bom: bool, bad_byte: bool, object_lines: int
) -> None:
    """SPEC.md, "Bad records": the same records, line numbers and reasons whichever way a file is split
    (Arrow kernels for large files, line by line for small ones)."""
    data = ("\ufeff" if bom else "").encode() + "\n".join(lines).encode()
    if bad_byte:
        data = data.replace(b"1", b"\xff", 1)
    line_by_line = rows(data)
    with patch.object(records, "ARROW_SPLIT_BYTES", 0), patch.object(records, "_OBJECT_LINES", object_lines):
        assert rows(data) == line_by_line


def test_nan_infinity_and_overflowing_numbers_are_not_valid_json() -> None:
    """RFC 8259 has no NaN or Infinity (DuckDB's parser accepts them, in any case; Redshift's COPY does not):
    such a record is rejected here, naming the token, in a small file and in a large one alike."""
    lines = [
        b'{"ts": 1, "length": NaN}',
        b'{"ts": 2, "registration": -Infinity}',
        b'{"ts": 3, "length": nan, "page": "NextSong"}',
        b'{"ts": 4, "length": 1e999}',
        b'{"ts": 5,',
        b' "length": Infinity}',
        b'{"ts": 6, "artist": "NaN: Infinity, 1e999", "length": 1e300}',
        b'{"ts": 7, "location": "Nanaimo, BC", "userAgent": "inf"}',
    ]
    expected = [
        (1, "not valid JSON: NaN is not a JSON number"),
        (2, "not valid JSON: -Infinity is not a JSON number"),
        (3, "not valid JSON: nan is not a JSON number"),
        (4, "not valid JSON: 1e999 is too large for a double"),
        (5, "not valid JSON: Infinity is not a JSON number"),  # a multi-line object stays one record
        (7, None),  # the tokens are inside strings
        (8, None),
    ]
    small = b"\n".join(lines)
    large = small + b"\n" + b" " * records.ARROW_SPLIT_BYTES
    for data in (small, large):
        assert [(line, error) for line, _, error in rows(data)] == expected


def test_song_files_batched_line_by_line_get_the_same_number_rule() -> None:
    """The song loader batches many small files through `split_into`; their records follow the same rule."""
    batch = records.RecordColumns()
    records.split_into(batch, b'{"song_id": "S1", "duration": NaN}\n')
    records.split_into(batch, b'{"song_id": "S2", "duration": 200.5}\n')
    assert batch.table().column("scan_error").to_pylist() == ["not valid JSON: NaN is not a JSON number", None]
