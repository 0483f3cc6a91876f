"""Splitting a source file into records: line numbers, blank lines, multi-line objects, bad lines."""

from __future__ import annotations

import json

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
