"""Split a source file into records, keeping each record's line number.

The Sparkify files are "mostly" newline-delimited JSON: one object a line, but blank lines occur and some
objects are pretty-printed over several lines (every song file may be). This module finds the records and
classifies what cannot be a record; whether a record's *fields* are valid is decided by the warehouse's
staging SQL (the one home of the field rules).

Hot path: a line that starts with ``{`` and ends with ``}`` is passed through untouched (the JSON parser in
the warehouse validates it). Only other lines pay for a Python parse.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field

_DECODER = json.JSONDecoder()


@dataclass
class FileRecords:
    """The records of one source file, as parallel columns (cheap to hand to Arrow)."""

    source_key: str
    line_numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    #: ``None`` for a record the warehouse should parse; otherwise why it was rejected here.
    errors: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def rejected_here(self) -> int:
        return sum(error is not None for error in self.errors)

    def add(self, line_number: int, text: str, error: str | None = None) -> None:
        self.line_numbers.append(line_number)
        self.texts.append(text)
        self.errors.append(error)


def split_records(source_key: str, data: bytes) -> FileRecords:
    """Return every record of ``data`` (the bytes of one file) with its 1-based starting line number."""
    records = FileRecords(source_key)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _split_undecodable(records, data)
        return records
    _split_text(records, text)
    return records


def _split_text(records: FileRecords, text: str, first_line: int = 1) -> None:
    lines = text.split("\n")
    offsets: list[int] = []  # start offset of every line, computed on the first slow record only
    index, count = 0, len(lines)
    while index < count:
        stripped = lines[index].strip()
        if not stripped:
            index += 1
        elif stripped[0] == "{" and stripped[-1] == "}":
            records.add(first_line + index, stripped)
            index += 1
        else:
            if not offsets:
                offsets = _line_offsets(lines)
            index = _decode_slow(records, text, lines, offsets, index, first_line)


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    return offsets


def _decode_slow(
    records: FileRecords, text: str, lines: list[str], offsets: list[int], index: int, first_line: int
) -> int:
    """Parse a record that is not one ``{...}`` line: a multi-line object, or a bad line.

    Returns the index of the next line to read.
    """
    line_number = first_line + index
    line = lines[index]
    stripped = line.strip()
    if stripped[0] != "{":
        records.add(line_number, line, _parse_error(stripped))
        return index + 1
    start = offsets[index] + line.index("{")
    try:
        value, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError) as exc:
        records.add(line_number, line, f"not valid JSON: {_describe(exc)}")
        return index + 1
    last = bisect_right(offsets, end - 1) - 1
    if lines[last][end - offsets[last] :].strip():
        records.add(line_number, line, "not valid JSON: extra data after the object")
        return index + 1
    records.add(line_number, json.dumps(value, ensure_ascii=False))
    return last + 1


def _parse_error(stripped: str) -> str:
    """Why a line that does not start with ``{`` is not a record."""
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        return f"not valid JSON: {_describe(exc)}"
    return f"not a JSON object (a JSON {type(value).__name__})"


def _describe(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _split_undecodable(records: FileRecords, data: bytes) -> None:
    """A file that is not valid UTF-8: keep the lines that are, reject the others with the byte offset."""
    lines = data.split(b"\n")
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    good: list[str] = []
    first_good = 1
    for index, raw in enumerate(lines):
        try:
            good.append(raw.decode("utf-8"))
            continue
        except UnicodeDecodeError as exc:
            bad = exc
        if good:
            _split_text(records, "\n".join(good), first_good)
        good, first_good = [], index + 2
        records.add(index + 1, raw.decode("utf-8", errors="replace"), f"not valid UTF-8 (byte {bad.start} of the line)")
    if good:
        _split_text(records, "\n".join(good), first_good)
