"""Split a source file into records, keeping each record's line number.

The Sparkify files are "mostly" newline-delimited JSON: one object a line, but blank lines occur and some
objects are pretty-printed over several lines (every song file may be). This module finds the records and
classifies what cannot be a record; whether a record's *fields* are valid is decided by the warehouse's
staging SQL (the one home of the field rules).

Hot path: a line that starts with ``{`` and ends with ``}`` is passed through untouched (the JSON parser in
the warehouse validates it). In a large file those lines are found by Arrow compute kernels over the file's
bytes, so they never become Python objects; only the other lines (blank lines, the lines of a
pretty-printed object, bad lines) are looked at in Python, with the same rules as a small file, which is
read line by line. Both give the same records (`sparkify_assets_tests/sources/test_records.py`).

One JSON rule is enforced here, because DuckDB's parser is lenient about it: ``NaN``, ``Infinity`` and
numbers too large for a double (``1e999``) are not JSON numbers (RFC 8259), so a record holding one is
rejected as not valid JSON (DuckDB would load NaN or inf; Redshift's COPY documents only JSON's values).
Only the few records a regular expression flags as possibly holding one are decoded in Python.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc


class _NotAJsonNumber(ValueError):
    """A NaN, an infinity or an overflowing number where JSON wants a number."""


def _no_constant(name: str) -> float:
    raise _NotAJsonNumber(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotAJsonNumber(f"{text} is too large for a double")
    return value


#: Finds where a record ends (lenient about NaN, so a multi-line object holding one stays one record).
_DECODER = json.JSONDecoder()
#: Decides whether a record's numbers are JSON numbers.
_STRICT_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
_BOM = b"\xef\xbb\xbf"
#: Records that may hold a non-finite number (a bare nan/inf token in any case, as DuckDB accepts them, or
#: an exponent of three digits or more); only these few are decoded in Python to be sure.
_MAYBE_NOT_FINITE = r"[:,\[]\s*[-+]?(?i:nan|inf)|[0-9][eE][-+]?[0-9]{3}"
#: Such a token where Python's decoder stops (it knows only NaN, Infinity and -Infinity).
_BARE_NON_FINITE = re.compile(r"[-+]?(?:nan|inf(?:inity)?)", re.IGNORECASE)

#: Files at least this large are split with Arrow kernels; smaller ones (song files) line by line.
ARROW_SPLIT_BYTES = 64 * 1024
#: Lines handed to the JSON decoder at first for an object that spans several lines (doubled as needed).
_OBJECT_LINES = 64

#: The Arrow schema of a file's records (see `FileRecords.table`).
RECORD_SCHEMA = pa.schema(
    [
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("raw_text", pa.string(), nullable=False),
        # NULL for a record the warehouse should parse; otherwise why it was rejected here.
        pa.field("scan_error", pa.string()),
    ]
)


@dataclass
class RecordColumns:
    """Records as three parallel Python lists: what the line-by-line splitter appends to."""

    line_numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)

    def add(self, line_number: int, text: str, error: str | None = None) -> None:
        self.line_numbers.append(line_number)
        self.texts.append(text)
        self.errors.append(error)

    def __len__(self) -> int:
        return len(self.texts)

    def table(self) -> pa.Table:
        """The records as Arrow (`RECORD_SCHEMA`), with the not-JSON-number rule applied (see the module)."""
        table = pa.Table.from_arrays(
            [
                pa.array(self.line_numbers, pa.int64()),
                pa.array(self.texts, pa.string()),
                pa.array(self.errors, pa.string()),
            ],
            schema=RECORD_SCHEMA,
        )
        return _reject_non_finite_numbers(table)


@dataclass(frozen=True)
class FileRecords:
    """The records of one source file as an Arrow table (`RECORD_SCHEMA`).

    The table is not in line order when a large file has records the Arrow path leaves to Python (they
    come after the plain lines): putting them in place would copy every record, and nothing downstream
    depends on the order (each record carries its line number). The lists below are in line order.
    """

    source_key: str
    table: pa.Table

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def rejected_here(self) -> int:
        return self.table.num_rows - self.table.column("scan_error").null_count

    # Python lists in line order, for tests and tools (the warehouse reads `table`).
    @property
    def line_numbers(self) -> list[int]:
        return self._in_line_order().column("line_number").to_pylist()

    @property
    def texts(self) -> list[str]:
        return self._in_line_order().column("raw_text").to_pylist()

    @property
    def errors(self) -> list[str | None]:
        return self._in_line_order().column("scan_error").to_pylist()

    def _in_line_order(self) -> pa.Table:
        return self.table.sort_by("line_number")


def split_records(source_key: str, data: bytes) -> FileRecords:
    """Return every record of ``data`` (the bytes of one file) with its 1-based starting line number."""
    table = _split_with_arrow(data) if len(data) >= ARROW_SPLIT_BYTES else None
    if table is None:
        records = RecordColumns()
        split_into(records, data)
        table = records.table()
    return FileRecords(source_key, table)


def _reject_non_finite_numbers(table: pa.Table) -> pa.Table:
    """Give a reason to each record that holds NaN, an infinity or an overflowing number (see above)."""
    texts, errors = table.column("raw_text"), table.column("scan_error")
    suspects = pc.indices_nonzero(
        pc.and_(pc.is_null(errors), pc.match_substring_regex(texts, _MAYBE_NOT_FINITE))
    ).to_pylist()
    if not suspects:
        return table
    found = {index: reason for index in suspects if (reason := _non_finite_number(texts[index].as_py()))}
    if not found:
        return table
    reasons = errors.to_pylist()
    for index, reason in found.items():
        reasons[index] = f"not valid JSON: {reason}"
    return table.set_column(2, RECORD_SCHEMA.field("scan_error"), pa.array(reasons, pa.string()))


def _non_finite_number(text: str) -> str | None:
    """Why ``text`` is not valid JSON because of a number, or ``None`` (any other fault: the warehouse's
    parser judges it, as for every record)."""
    try:
        _STRICT_DECODER.decode(text)
    except _NotAJsonNumber as exc:
        return str(exc)
    except json.JSONDecodeError as exc:  # a token Python does not know, such as DuckDB's lower-case nan/inf
        token = _BARE_NON_FINITE.match(text, exc.pos)
        if token is not None:
            return f"{token.group()} is not a JSON number"
    except (ValueError, RecursionError):
        pass
    return None


def split_into(records: RecordColumns, data: bytes) -> None:
    """Append the records of ``data`` to ``records``, line by line (fast enough for small files)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _split_undecodable(records, data)
        return
    _split_text(records, text)


# -- large files: Arrow kernels for the plain lines, Python for the others ---------------------------------
def _split_with_arrow(data: bytes) -> pa.Table | None:
    """The records of a large file, or ``None`` when it is not valid UTF-8 (the line-by-line path copes)."""
    if len(data) >= 2**31 - 1:  # beyond what one Arrow binary value holds
        return None
    buffer = pa.py_buffer(data)  # the file's bytes, not a copy
    if data.startswith(_BOM):
        buffer = buffer.slice(len(_BOM))
    offsets = pa.array([0, buffer.size], pa.int32()).buffers()[1]
    lines = pc.split_pattern(pa.Array.from_buffers(pa.binary(), 1, [None, offsets, buffer]), pattern=b"\n").flatten()
    try:
        lines = lines.cast(pa.string())
    except pa.ArrowInvalid:
        return None
    opens = pc.starts_with(lines, "{")
    plain = pc.and_(opens, pc.or_(pc.ends_with(lines, "}"), pc.ends_with(lines, "}\r")))
    others = pc.indices_nonzero(pc.and_(pc.invert(plain), pc.greater(pc.binary_length(lines), 0))).to_pylist()
    slow = RecordColumns()
    consumed: list[tuple[int, int]] = []  # lines inside multi-line objects: never records of their own
    next_free = 0
    for index in others:
        if index < next_free:
            continue
        stripped = lines[index].as_py().strip()
        if not stripped:
            continue
        if stripped[0] == "{" and stripped[-1] == "}":
            slow.add(index + 1, stripped)
            continue
        next_free = _decode_object(slow, lines, index)
        if next_free > index + 1:
            consumed.append((index + 1, next_free))
    if consumed:
        plain = pc.and_(plain, pc.invert(_mask(len(lines), consumed)))
    plain_index = pc.indices_nonzero(plain)
    texts = lines.filter(plain)
    del lines  # memory holds the file's bytes and its records, not every line as well
    carriage_returns = pc.ends_with(texts, "\r")
    if pc.any(carriage_returns).as_py():
        texts = pc.if_else(carriage_returns, pc.utf8_slice_codeunits(texts, 0, -1), texts)
    table = _reject_non_finite_numbers(
        pa.Table.from_arrays(
            [pc.add(plain_index.cast(pa.int64()), 1), texts, pa.nulls(len(texts), pa.string())], schema=RECORD_SCHEMA
        )
    )
    if len(slow):  # slow.table() applies the rule to its own records
        table = pa.concat_tables([table, slow.table()])  # not sorted: see FileRecords
    return table


def _mask(length: int, ranges: list[tuple[int, int]]) -> pa.Array:
    """A boolean array of ``length``, true on the half-open index ranges given."""
    flags = bytearray(length)
    for start, stop in ranges:
        flags[start:stop] = b"\x01" * (stop - start)
    return pc.not_equal(pa.Array.from_buffers(pa.uint8(), length, [None, pa.py_buffer(bytes(flags))]), 0)


def _decode_object(records: RecordColumns, lines: pa.StringArray, index: int) -> int:
    """`_decode_slow` for a large file: decode from line ``index`` using only the lines the object needs.

    The decoder reads a growing window of lines from ``index`` on. A window that fails on its last line
    may have cut the object short, so it is widened; a failure before the last line, or a success, is
    the same as on the whole text, because the decoder never looks past a line end inside a string and
    stops at the end of the object. Returns the index of the next line to read.
    """
    line = lines[index].as_py()
    stripped = line.strip()
    if stripped[0] != "{":
        records.add(index + 1, line, _parse_error(stripped))
        return index + 1
    start, count, span = line.index("{"), len(lines), _OBJECT_LINES
    while True:
        window = lines.slice(index, span).to_pylist()
        text = "\n".join(window)
        try:
            _, end = _DECODER.raw_decode(text, start)
            break
        except (ValueError, RecursionError) as exc:
            cut_short = isinstance(exc, RecursionError) or getattr(exc, "pos", 0) > text.rfind("\n")
            if index + span < count and cut_short:
                span *= 2
                continue
            records.add(index + 1, line, f"not valid JSON: {_describe(exc)}")
            return index + 1
    offsets = _line_offsets(window)
    last = bisect_right(offsets, end - 1) - 1
    if window[last][end - offsets[last] :].strip():
        records.add(index + 1, line, "not valid JSON: extra data after the object")
        return index + 1
    records.add(index + 1, _one_line(text[start:end]))
    return index + last + 1


# -- small files: line by line ------------------------------------------------------------------------------
def _split_text(records: RecordColumns, text: str, first_line: int = 1) -> None:
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
    records: RecordColumns, text: str, lines: list[str], offsets: list[int], index: int, first_line: int
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
        _, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError) as exc:
        records.add(line_number, line, f"not valid JSON: {_describe(exc)}")
        return index + 1
    last = bisect_right(offsets, end - 1) - 1
    if lines[last][end - offsets[last] :].strip():
        records.add(line_number, line, "not valid JSON: extra data after the object")
        return index + 1
    records.add(line_number, _one_line(text[start:end]))
    return last + 1


def _one_line(object_text: str) -> str:
    """A multi-line object as one line, exactly as written: a line break between JSON tokens is whitespace,
    and JSON strings cannot hold one. Nothing is re-encoded, so nothing of the record is lost or altered."""
    return object_text.replace("\n", " ")


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


def _split_undecodable(records: RecordColumns, data: bytes) -> None:
    """A file that is not valid UTF-8: keep the lines that are, reject the others with the byte offset."""
    lines = data.split(b"\n")
    if lines and lines[0].startswith(_BOM):
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
