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

Such a line is not always a whole record: ``{"a": 1, "b": {"c": 2}`` may be the first line of an object
whose closing ``}`` (or ``, "d": 3}``) comes on a later line. A line that continues an object never starts
with ``{`` (after a ``}`` JSON allows only ``,``, ``}`` or ``]``), so only when such a line follows one is
the object decoded from the line before; if it ends on a later line, the lines are one record.

Strict JSON: a record is valid JSON as Python's `json` module reads it, and RFC 8259's numbers. DuckDB's
parser, which types the records in the warehouse, is more lenient in a few ways, found by trying it (see
`sparkify_assets_tests/sources/test_strict_json.py`): it takes a trailing comma in an object or an array
(``{"a": 1,}``, ``[1,]``), ``NaN`` and infinities in any case (``nan``, ``-inf``, ``Infinity``), and numbers
too large for a double (``1e999``, or an integer of 309 digits), which it loads as infinity. Such a record is
rejected here as not valid JSON, naming the fault. A regular expression over the records (an Arrow kernel)
flags the few that may hold one; only those are decoded in Python, which decides. (A multi-line object
holding one is still one record: its end is found as DuckDB's parser finds it, see `_object_end`.) Lines are
stripped of JSON's whitespace only (space, tab, CR), so a line holding a form feed or an NBSP is not valid.

A file that is not JSON text at all (gzip, UTF-16, a JSON array...) is refused as a whole, naming it
(`require_json_text`), rather than split into lines that are all rejected.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from sparkify_assets.sources.errors import NotJsonText

#: JSON's whitespace inside a line (RFC 8259; a line feed ends the line). Python's `str.strip` would also
#: take form feeds, NBSP, U+2028... which JSON does not, so a line holding one is not valid JSON.
_SPACE = " \t\r"
_BOM = b"\xef\xbb\xbf"

#: Files at least this large are split with Arrow kernels; smaller ones (song files) line by line.
ARROW_SPLIT_BYTES = 64 * 1024
#: Lines handed to the JSON decoder at first for an object that spans several lines (doubled as needed).
_OBJECT_LINES = 64
#: At most this many leniencies of DuckDB's are made valid to find where one object ends (`_object_end`).
_LENIENT_PATCHES = 256

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

    def extend_last(self, text: str) -> None:
        """The last record (a one-line record) is the first line of an object of several lines: ``text``."""
        self.texts[-1] = text

    def __len__(self) -> int:
        return len(self.texts)

    def table(self) -> pa.Table:
        """The records as Arrow (`RECORD_SCHEMA`), with the strict JSON rule applied (see the module)."""
        table = pa.Table.from_arrays(
            [
                pa.array(self.line_numbers, pa.int64()),
                pa.array(self.texts, pa.string()),
                pa.array(self.errors, pa.string()),
            ],
            schema=RECORD_SCHEMA,
        )
        return _reject_lenient_json(table)


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
    """Return every record of ``data`` (the bytes of one file) with its 1-based starting line number.

    Raises `NotJsonText` naming ``source_key`` when the file is not JSON text at all (`require_json_text`).
    """
    require_json_text(source_key, data)
    table = _split_with_arrow(data) if len(data) >= ARROW_SPLIT_BYTES else None
    if table is None:
        records = RecordColumns()
        _split_bytes(records, data)
        table = records.table()
    return FileRecords(source_key, table)


def split_slice(data: bytes, first_line: int, lookahead: bool, end: int | None = None) -> pa.Table:
    """The records (`RECORD_SCHEMA`) of one slice of a large file (`sources/slices.py`), ``data[:end]`` (all of
    ``data`` by default), numbered from ``first_line``. With ``lookahead``, the slice's last line is the first
    line of the next slice: the records of the slice may be decoded through it (as they would be in the whole
    file), but a record starting on it is the next slice's. The file as a whole is checked by `JsonTextCheck`,
    not here. The Arrow path reads the slice without a copy."""
    window = _window(data, end)
    table = _split_with_arrow(window, first_line, lookahead) if len(window) >= ARROW_SPLIT_BYTES else None
    if table is None:
        data = bytes(window)
        records = RecordColumns()
        _split_bytes(records, data, first_line)
        if lookahead and records.line_numbers:
            stop = first_line + data.count(b"\n")  # the lookahead line
            keep = [index for index, number in enumerate(records.line_numbers) if number < stop]
            if len(keep) < len(records):
                records.line_numbers = [records.line_numbers[index] for index in keep]
                records.texts = [records.texts[index] for index in keep]
                records.errors = [records.errors[index] for index in keep]
        table = records.table()
    return table


def _window(data: bytes, end: int | None) -> bytes | memoryview:
    """``data[:end]``, without a copy."""
    return data if end is None or end == len(data) else memoryview(data)[:end]


#: The longest line the warehouse engine is left to read itself (`scan_slice`); a file with a longer one is
#: split here. DuckDB's CSV reader needs a line whole in one of its buffers.
ENGINE_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SliceScan:
    """What `scan_slice` finds in a slice: how many of its lines are one-line records (``{`` to ``}``) for
    the warehouse engine to read itself, and the records of the other lines (`RECORD_SCHEMA`), or why
    the engine may not read the slice's lines itself (``unreadable``: the slice is then split here)."""

    plain_lines: int
    others: pa.Table
    unreadable: str | None = None


def scan_slice(data: bytes, first_line: int, lookahead: bool, end: int | None = None) -> SliceScan:
    """`split_slice` without the one-line records, over ``data[:end]`` (all of ``data`` by default; not copied):
    a warehouse engine that reads a file's lines itself (DuckDB's CSV reader, one column, no quoting) loads the
    lines that start with ``{`` and end with ``}`` and are not inside an object of several lines; every other
    record is split here, with its line number. The engine's lines are then exactly this module's one-line
    records, when the slice has:

    - no carriage return but in a CR LF line end or as the file's last byte, no NUL byte or byte-order mark, and
      valid UTF-8 (a CSV reader ends a line at a CR, cuts it at a NUL byte used as its delimiter, and fails on
      invalid UTF-8; a CR LF ends a line as LF does, without the CR, which the split takes off a one-line
      record too);
    - no object of several lines that takes in a line that looks like a record of its own;
    - no line longer than `ENGINE_LINE_BYTES`;
    - no one-line record that DuckDB's parser takes though it is not strict JSON (a bare ``NaN``, a trailing
      comma: `json_fault`, asked only of the lines `_MAYBE_NOT_JSON` flags): the split names its fault.

    Otherwise ``unreadable`` says which, and the whole file is split here (`split_slice`).
    """
    end = len(data) if end is None else end
    if data.find(b"\r", 0, end) >= 0 and data.count(b"\r", 0, end) != data.count(b"\r\n", 0, end) + (
        not lookahead and data.endswith(b"\r", 0, end)
    ):
        return _unreadable("a carriage return that does not end a line")
    if data.find(b"\0", 0, end) >= 0:
        return _unreadable("a NUL byte")
    if data.startswith(_BOM, 0, end):
        return _unreadable("a byte-order mark")
    split = _arrow_lines(_window(data, end), lookahead)
    if split is None:
        return _unreadable("not valid UTF-8")
    if split.consumed_plain:
        return _unreadable("an object of several lines holding a line that looks like a record")
    if len(split.lines) and pc.max(pc.binary_length(split.lines)).as_py() > ENGINE_LINE_BYTES:
        return _unreadable(f"a line longer than {ENGINE_LINE_BYTES:,} bytes")
    suspects = pc.indices_nonzero(pc.and_(split.plain, pc.match_substring_regex(split.lines, _MAYBE_NOT_JSON)))
    if any(json_fault(split.lines[index].as_py()) for index in suspects.to_pylist()):
        return _unreadable("a line that is not strict JSON")
    plain_lines = pc.sum(split.plain.cast(pa.int64())).as_py() or 0
    return SliceScan(plain_lines, _numbered_from(split.slow.table(), first_line))


def _unreadable(why: str) -> SliceScan:
    return SliceScan(0, RECORD_SCHEMA.empty_table(), unreadable=why)


def split_into(records: RecordColumns, data: bytes, source_key: str | None = None) -> None:
    """Append the records of ``data`` to ``records``, line by line (fast enough for small files).

    With ``source_key``, a file that is not JSON text at all raises `NotJsonText` naming it, as
    `split_records` does (the song loader batches many small files through this function).
    A file that is one object on one line, as nearly every song file is, is its one record (`_one_line_object`).
    """
    text = _one_line_object(data)
    if text is not None:
        records.add(1, text)
        return
    if source_key is not None:
        require_json_text(source_key, data)
    _split_bytes(records, data)


def _one_line_object(data: bytes) -> str | None:
    """The one record of a file that is one ``{...}`` line (whitespace after it aside) of valid UTF-8 with no
    CR or NUL byte in it, or ``None`` for any other file.

    Such a file passes every check of `require_json_text` (it starts with ``{``: no signature, byte-order mark
    or array; no NUL byte; no CR inside the line) and `_split_text` finds this one record on line 1, so neither
    runs: 20,000 song files are split in about 0.04 s instead of 0.2 s. `test_records.py` checks that `split_into`
    gives the same records and errors as those two for files of every kind.
    """
    line = data.rstrip(b" \t\r\n")
    if line[:1] != b"{" or line[-1:] != b"}" or b"\n" in line or b"\r" in line or b"\0" in line:
        return None
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- the file as a whole ------------------------------------------------------------------------------------
#: How much of a file's start `require_json_text` looks at (besides one scan of the file for a NUL byte).
JSON_TEXT_HEAD_BYTES = 8 * 1024
#: Signatures of compressed and binary formats, and what the message calls them.
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an (empty) zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x04\x22\x4d\x18", "lz4-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PAR1", "a Parquet file"),
)
_BZIP2 = re.compile(rb"BZh[1-9]")
#: Byte-order marks of the UTF-32 and UTF-16 encodings (UTF-32's first: ff fe 00 00 starts with ff fe).
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)
#: Where the NUL bytes of ASCII text encoded in UTF-16 or UTF-32 fall, by byte position modulo 4.
_NUL_PATTERNS = {
    (False, True, False, True): "UTF-16 (little-endian)",
    (True, False, True, False): "UTF-16 (big-endian)",
    (False, True, True, True): "UTF-32 (little-endian)",
    (True, True, True, False): "UTF-32 (big-endian)",
}


def require_json_text(source_key: str, data: bytes) -> None:
    """Raise `NotJsonText` naming ``source_key`` when ``data`` is plainly not UTF-8 JSON text, one object a
    line (SPEC.md, "Bad records": such a file fails its partition, rather than each line being rejected):

    - compressed or binary data: gzip, zip, bzip2, zstd, xz, lz4, 7-Zip, Parquet (by their signatures);
    - text in UTF-16 or UTF-32 (a byte-order mark, or NUL bytes between the characters);
    - NUL-ridden data: a run of four NUL bytes (binary or zero-filled data), or at least one NUL byte for
      every two lines. A stray NUL byte in a line only makes that line not valid JSON (a bad record);
    - one JSON array: the first character that is not whitespace is ``[`` and the last is ``]`` (or the
      first line is a lone ``[``); a file whose first line only is an array is a bad record, then lines;
    - lines ended by CR alone (classic Mac OS): no line feed at all, and more than one line that starts
      an object (one object pretty-printed with CRs is one valid record: CR is JSON whitespace).

    An empty file is an empty partition, not an error. Costs a look at the first few KB, and a scan of
    the file for a NUL byte and for line feeds. `JsonTextCheck` makes the same checks on a file read in
    pieces.
    """
    check = JsonTextCheck(source_key)
    check.feed(data)
    check.finish()


#: The signatures and byte-order marks `JsonTextCheck` looks for are at most this long.
_START_BYTES = 8


class JsonTextCheck:
    """`require_json_text` over a file read in pieces: `feed` each piece in order (or slices of it), then
    `finish`. What the file's start tells (a signature, a byte-order mark) raises as soon as 8 KB are in;
    the rest, which needs the whole file (its NUL bytes and line feeds, its last character), raises in
    `finish`, in the same order and with the same messages as `require_json_text` on the whole file."""

    def __init__(self, source_key: str) -> None:
        self.source_key = source_key
        self.head = b""
        self.head_checked = False
        self.tail = b""
        self.size = 0
        self.newlines = 0
        self.nuls = 0
        self.first_nul_line = 0
        self.nul_run = False  # a run of four NUL bytes
        self.last_bytes = b""  # the last 3 bytes fed: a run of NUL bytes may straddle two pieces

    @property
    def refused(self) -> bool:
        """Whether the file will be refused whatever follows (binary or zero-filled data): no use splitting it."""
        return self.nul_run

    def feed(self, data: bytes, end: int | None = None, newlines: int | None = None) -> None:
        """The next ``data[:end]`` of the file; ``newlines``: how many line feeds it holds, if the caller
        counted them (they are counted here only when the file has NUL bytes: the messages need them)."""
        end = len(data) if end is None else end
        if not end:
            return
        if len(self.head) < JSON_TEXT_HEAD_BYTES:
            self.head += data[: min(end, JSON_TEXT_HEAD_BYTES - len(self.head))]
        if not self.head_checked and len(self.head) >= _START_BYTES:
            self._check_start(self.head)
        first_nul = data.find(b"\0", 0, end)
        if first_nul >= 0 or self.nuls:
            if newlines is None:
                newlines = data.count(b"\n", 0, end)
            if first_nul >= 0:
                if not self.nuls:
                    self.first_nul_line = self.newlines + data.count(b"\n", 0, first_nul) + 1
                self.nuls += data.count(b"\0", 0, end)
                self.nul_run = self.nul_run or b"\0\0\0\0" in self.last_bytes + data[first_nul : first_nul + 3]
                self.nul_run = self.nul_run or data.find(b"\0\0\0\0", 0, end) >= 0
        if newlines is None:  # only whether there is one matters (a file of CR-ended lines has none)
            newlines = 0 if self.newlines else int(data.find(b"\n", 0, end) >= 0)
        self.newlines += newlines
        self.size += end
        self.last_bytes = (self.last_bytes + data[max(0, end - 3) : end])[-3:]
        self.tail = (self.tail + data[max(0, end - JSON_TEXT_HEAD_BYTES) : end])[-JSON_TEXT_HEAD_BYTES:]

    def finish(self) -> None:
        if not self.size:
            return
        if not self.head_checked:
            self._check_start(self.head)
        source_key, head = self.source_key, self.head
        if self.nuls:
            _refuse_nul_bytes(source_key, head, self.nuls, self.newlines, self.nul_run, self.first_nul_line)
        text = head[len(_BOM) :] if head.startswith(_BOM) else head
        start = text.lstrip(b" \t\r\n")
        if start.startswith(b"["):
            first_line = start.split(b"\n", 1)[0].strip(b" \t\r")
            if first_line == b"[" or self.tail.rstrip(b" \t\r\n").endswith(b"]"):
                raise NotJsonText(
                    source_key, "it is one JSON array (it starts with '[' and ends with ']'); write one object a line"
                )
        if b"\r" in head and b"\n" not in head and not self.newlines:
            starts = sum(segment.lstrip(b" \t").startswith(b"{") for segment in text.split(b"\r"))
            if starts > 1:
                raise NotJsonText(
                    source_key,
                    "its lines end with a carriage return (CR) alone, so it is one line; end them with LF or CR LF",
                )

    def check_start(self, start: bytes) -> None:
        """Raise now if the file's first bytes (at least `_START_BYTES` of them, or the whole file) show it is
        compressed, binary or UTF-16/32 text: before any of it is split (`feed` makes the same check)."""
        if not self.head_checked and len(start) >= _START_BYTES:
            self._check_start(start)

    def _check_start(self, head: bytes) -> None:
        self.head_checked = True
        source_key = self.source_key
        for magic, what in _MAGIC:
            if head.startswith(magic):
                raise NotJsonText(source_key, f"it is {what} (it starts with the bytes {_hex(magic)})")
        if _BZIP2.match(head):
            raise NotJsonText(source_key, f"it is bzip2-compressed (it starts with the bytes {_hex(head[:4])})")
        for bom, encoding in _BOMS:
            if head.startswith(bom):
                raise NotJsonText(
                    source_key,
                    f"it is {encoding} text (it starts with the byte-order mark {_hex(bom)}); convert it to UTF-8",
                )


def _refuse_nul_bytes(source_key: str, head: bytes, nuls: int, newlines: int, nul_run: bool, first_line: int) -> None:
    encoding = _nul_pattern(head)
    if encoding is not None:
        raise NotJsonText(
            source_key, f"it looks like {encoding} text (NUL bytes between its characters); convert it to UTF-8"
        )
    if nul_run or (nuls >= 4 and 2 * nuls > newlines + 1):
        raise NotJsonText(
            source_key,
            f"it holds {nuls} NUL bytes (the first on line {first_line}), as binary or zero-filled data does",
        )


def _nul_pattern(head: bytes) -> str | None:
    """The encoding whose NUL bytes fall where ``head``'s do (ASCII text in UTF-16 or UTF-32), or ``None``."""
    if len(head) < 4:
        return None
    pattern = tuple(2 * head[k::4].count(0) > len(head[k::4]) for k in range(4))
    return _NUL_PATTERNS.get(pattern)  # type: ignore[arg-type]


def _hex(data: bytes) -> str:
    return " ".join(f"{byte:02x}" for byte in data)


# -- strict JSON --------------------------------------------------------------------------------------------
class _NotJson(ValueError):
    """A fault Python's decoder would let pass: NaN, an infinity, a number too large for a double."""


def _no_constant(name: str) -> float:
    raise _NotJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotJson(f"{_number(text)} is too large for a double")
    return value


def _finite_int(text: str) -> int:
    # The value is not used: only whether it fits a double (DuckDB loads a larger one as infinity).
    if len(text) > 308 and math.isinf(float(text)):
        raise _NotJson(f"{_number(text)} is too large for a double")
    return 0


def _number(text: str) -> str:
    return text if len(text) <= 30 else f"{text[:20]}... (a number of {len(text)} characters)"


#: Finds where a record ends (lenient about NaN; `_object_end` makes it take DuckDB's other leniencies).
_DECODER = json.JSONDecoder()
#: Decides whether a record is valid JSON: Python's decoder, strict about numbers.
_STRICT_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float, parse_int=_finite_int)
#: Records that may hold something DuckDB's parser takes though it is not JSON: a bare nan/inf token in any
#: case; an exponent of three digits or a run of 100 digits (a number that may be too large for a double: with
#: an exponent of two digits at most, it needs 210 digits); a comma before a closing bracket. Strings may
#: hold any of these, so only the records flagged are decoded in Python to be sure.
_MAYBE_NOT_JSON = r"[:,\[]\s*[-+]?(?i:nan|inf)|[0-9][eE][-+]?[0-9]{3}|[0-9]{100}|,\s*[\]}]"
#: A non-finite token where Python's decoder stops (it knows only NaN, Infinity and -Infinity).
_BARE_NON_FINITE = re.compile(r"[-+]?(?:nan|inf(?:inity)?)", re.IGNORECASE)
#: For a record nested too deeply for Python's decoder: its strings (to blank them out), and the faults.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_TRAILING_COMMA = re.compile(r",[ \t\r\n]*[\]}]")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _reject_lenient_json(table: pa.Table) -> pa.Table:
    """Give a reason to each record DuckDB's parser would take though it is not valid JSON (see above)."""
    texts, errors = table.column("raw_text"), table.column("scan_error")
    suspects = pc.indices_nonzero(
        pc.and_(pc.is_null(errors), pc.match_substring_regex(texts, _MAYBE_NOT_JSON))
    ).to_pylist()
    if not suspects:
        return table
    found = {index: reason for index in suspects if (reason := json_fault(texts[index].as_py()))}
    if not found:
        return table
    reasons = errors.to_pylist()
    for index, reason in found.items():
        reasons[index] = f"not valid JSON: {reason}"
    return table.set_column(2, RECORD_SCHEMA.field("scan_error"), pa.array(reasons, pa.string()))


def json_fault(text: str) -> str | None:
    """Why ``text`` is not one valid JSON value (strict: see the module), or ``None`` when it is one.

    Nesting deeper than Python's decoder goes (about 1,000 levels, less deep in the stack) is not a fault:
    such text is valid JSON (RFC 8259 lets a parser limit depth; DuckDB's has no limit). It is checked for
    the faults the regular expression looks for, outside its strings.
    """
    try:
        _STRICT_DECODER.decode(text)
    except _NotJson as exc:
        return str(exc)
    except json.JSONDecodeError as exc:
        token = _BARE_NON_FINITE.match(text, exc.pos)
        if token is not None:
            return f"{token.group()} is not a JSON number"
        comma = _trailing_comma(text, exc.pos)
        if comma is not None:
            return f"trailing comma at column {comma + 1}"
        return _describe(exc)
    except RecursionError:
        return _lexical_fault(text)
    except ValueError as exc:
        return str(exc)
    return None


def _trailing_comma(text: str, position: int) -> int | None:
    """Where the comma is when the decoder stopped at a trailing comma: on the ``}`` or ``]`` after it (Python
    3.12 and before) or on the comma itself (3.13 on). ``None`` when it stopped at something else."""
    if text[position : position + 1] == ",":
        after = len(text) - len(text[position + 1 :].lstrip(" \t\r\n"))
        return position if text[after : after + 1] in ("}", "]") else None
    if text[position : position + 1] in ("}", "]"):
        before = len(text[:position].rstrip(" \t\r\n")) - 1
        return before if before >= 0 and text[before] == "," else None
    return None


def _lexical_fault(text: str) -> str | None:
    """The faults of `_MAYBE_NOT_JSON` in ``text``, outside its strings (for text nested too deeply to decode)."""
    bare = _STRING.sub(lambda string: " " * len(string.group()), text)
    if (comma := _TRAILING_COMMA.search(bare)) is not None:
        return f"trailing comma at column {comma.start() + 1}"
    if (token := _BARE_NON_FINITE.search(bare)) is not None:
        return f"{token.group()} is not a JSON number"
    for number in _NUMBER.finditer(bare):
        if math.isinf(float(number.group())):
            return f"{_number(number.group())} is too large for a double"
    return None


# -- large files: Arrow kernels for the plain lines, Python for the others ---------------------------------
@dataclass(frozen=True)
class _ArrowLines:
    """A large file's (or slice's) lines as Arrow, and how `_split_with_arrow` reads them: ``plain``, the lines
    that are one-line records (``{`` to ``}``, none inside an object of several lines, the lookahead line
    excluded); ``slow``, the records starting on the other lines; ``consumed_plain``, whether an object of
    several lines took in a line that looks like a record of its own."""

    lines: pa.StringArray
    plain: pa.BooleanArray
    slow: RecordColumns
    consumed_plain: bool


def _arrow_lines(data: bytes | memoryview, lookahead: bool = False) -> _ArrowLines | None:
    """The lines of ``data`` as `_ArrowLines`, or ``None`` when it is not valid UTF-8 (or too large for one
    Arrow value): the line-by-line path copes."""
    if len(data) >= 2**31 - 1:  # beyond what one Arrow binary value holds
        return None
    buffer = pa.py_buffer(data)  # the file's bytes, not a copy
    if bytes(data[: len(_BOM)]) == _BOM:
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
    if lookahead:  # the last line starts the next slice: it is read, not split, here
        plain = pa.concat_arrays([plain.slice(0, len(lines) - 1), pa.array([False])])
        if others and others[-1] == len(lines) - 1:
            others.pop()
    slow, consumed = _split_others(lines, others, plain)
    consumed_plain = False
    if consumed:
        inside = _mask(len(lines), consumed)
        consumed_plain = pc.any(pc.and_(plain, inside)).as_py()
        plain = pc.and_(plain, pc.invert(inside))
    return _ArrowLines(lines, plain, slow, consumed_plain)


def _split_with_arrow(data: bytes | memoryview, first_line: int = 1, lookahead: bool = False) -> pa.Table | None:
    """The records of a large file (or of a slice of one: `split_slice`), or ``None`` when it is not valid
    UTF-8 (the line-by-line path copes)."""
    split = _arrow_lines(data, lookahead)
    if split is None:
        return None
    plain_index = pc.indices_nonzero(split.plain)
    texts = split.lines.filter(split.plain)
    slow = split.slow
    del split  # memory holds the file's bytes and its records, not every line as well
    carriage_returns = pc.ends_with(texts, "\r")
    if pc.any(carriage_returns).as_py():
        texts = pc.if_else(carriage_returns, pc.utf8_slice_codeunits(texts, 0, -1), texts)
    table = _reject_lenient_json(
        pa.Table.from_arrays(
            [pc.add(plain_index.cast(pa.int64()), 1), texts, pa.nulls(len(texts), pa.string())], schema=RECORD_SCHEMA
        )
    )
    if len(slow):  # slow.table() applies the rule to its own records
        table = pa.concat_tables([table, slow.table()])  # not sorted: see FileRecords
    return _numbered_from(table, first_line)


def _numbered_from(table: pa.Table, first_line: int) -> pa.Table:
    """``table``'s records with the line numbers of a slice whose first line is ``first_line``."""
    if first_line == 1:
        return table
    line_numbers = pc.add(table.column("line_number"), first_line - 1)
    return table.set_column(0, RECORD_SCHEMA.field("line_number"), line_numbers)


class _Ascending:
    """An ascending Arrow integer array as a sequence `bisect` can search, converting only what it visits."""

    def __init__(self, values: pa.Array) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, position: int) -> int:
        return self.values[position].as_py()

    def last_before(self, value: int) -> int:
        """The largest value below ``value``, or -1."""
        position = bisect_left(self, value)
        return self[position - 1] if position else -1


def _split_others(
    lines: pa.StringArray, others: list[int], plain: pa.BooleanArray
) -> tuple[RecordColumns, list[tuple[int, int]]]:
    """The records the Arrow path leaves to Python: those starting on the lines ``others`` (the lines that
    are neither empty nor plain), and the plain lines that turn out to start an object of several lines.

    Returns them, and the ranges of line indexes inside objects of several lines (plain lines there are
    not records of their own). The same rules as `_split_text`, over a file's lines as Arrow.
    """
    slow = RecordColumns()
    plain_lines: _Ascending | None = None  # the indexes of the plain lines, when first needed
    consumed: list[tuple[int, int]] = []
    next_free = 0  # lines before it belong to records already found
    previous, previous_plain = -1, False  # the last non-blank line of ``others``; whether a one-line record
    for index in others:
        if index < next_free:
            continue
        line = lines[index].as_py()
        stripped = line.strip(_SPACE)
        if not stripped:
            continue
        if stripped[0] == "{" and stripped[-1] == "}":
            slow.add(index + 1, stripped)
            previous, previous_plain = index, True
            continue
        if stripped[0] != "{":  # it may continue the object of the last non-blank line
            if previous == index - 1 or plain[index - 1].as_py():  # the usual case: the line just before
                before = index - 1
            else:  # blank lines between: the last plain line before them, or the last line seen here
                if plain_lines is None:
                    plain_lines = _Ascending(pc.indices_nonzero(plain))
                before = max(plain_lines.last_before(index), previous)
            if (
                before >= next_free
                and (before > previous or previous_plain)
                and _open_on_its_line(lines[before].as_py())
            ):
                found = _object_in_lines(lines, before, index - before + 1)
                if isinstance(found, tuple) and found[0] > before:
                    last, text = found
                    if before == previous:
                        slow.extend_last(text)
                    else:
                        slow.add(before + 1, text)
                    consumed.append((before, last + 1))
                    next_free, previous, previous_plain = last + 1, last, False
                    continue
        next_free = _decode_object(slow, lines, index, line)
        if next_free > index + 1:
            consumed.append((index + 1, next_free))
        previous, previous_plain = next_free - 1, False
    return slow, consumed


def _mask(length: int, ranges: list[tuple[int, int]]) -> pa.Array:
    """A boolean array of ``length``, true on the half-open index ranges given."""
    flags = bytearray(length)
    for start, stop in ranges:
        flags[start:stop] = b"\x01" * (stop - start)
    return pc.not_equal(pa.Array.from_buffers(pa.uint8(), length, [None, pa.py_buffer(bytes(flags))]), 0)


def _decode_object(records: RecordColumns, lines: pa.StringArray, index: int, line: str) -> int:
    """`_decode_slow` for a large file: the record starting on line ``index`` (``line``), a multi-line object
    or a bad line. Returns the index of the next line to read."""
    stripped = line.strip(_SPACE)
    if stripped[0] != "{":
        records.add(index + 1, line, _parse_error(stripped))
        return index + 1
    found = _object_in_lines(lines, index)
    if isinstance(found, str):
        records.add(index + 1, line, found)
        return index + 1
    last, text = found
    records.add(index + 1, text)
    return last + 1


def _object_in_lines(lines: pa.StringArray, index: int, span: int = 0) -> tuple[int, str] | str:
    """`_object_at` over a large file's lines as Arrow."""
    return _object_at(lambda start, count: lines.slice(start, count).to_pylist(), index, len(lines), span)


# -- small files: line by line ------------------------------------------------------------------------------
def _split_bytes(records: RecordColumns, data: bytes, first_line: int = 1) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _split_undecodable(records, data, first_line)
        return
    _split_text(records, text, first_line)


def _split_text(records: RecordColumns, text: str, first_line: int = 1) -> None:
    lines = text.split("\n")
    index, count = 0, len(lines)
    plain = -1  # the last line taken as a one-line record, while only blank lines follow it
    while index < count:
        stripped = lines[index].strip(_SPACE)
        if not stripped:
            index += 1
            continue
        if stripped[0] == "{" and stripped[-1] == "}":
            records.add(first_line + index, stripped)
            plain = index
            index += 1
            continue
        if plain >= 0 and stripped[0] != "{" and _open_on_its_line(lines[plain]):  # may continue its object
            found = _object_in_text(lines, plain, index - plain + 1)
            if isinstance(found, tuple) and found[0] > plain:
                records.extend_last(found[1])
                index, plain = found[0] + 1, -1
                continue
        plain = -1
        index = _decode_slow(records, lines, index, first_line)


def _decode_slow(records: RecordColumns, lines: list[str], index: int, first_line: int) -> int:
    """Parse a record that is not one ``{...}`` line: a multi-line object, or a bad line.

    Returns the index of the next line to read.
    """
    line_number = first_line + index
    line = lines[index]
    stripped = line.strip(_SPACE)
    if stripped[0] != "{":
        records.add(line_number, line, _parse_error(stripped))
        return index + 1
    found = _object_in_text(lines, index)
    if isinstance(found, str):
        records.add(line_number, line, found)
        return index + 1
    last, record = found
    records.add(line_number, record)
    return last + 1


def _object_in_text(lines: list[str], index: int, span: int = 0) -> tuple[int, str] | str:
    """`_object_at` over a small file's lines."""
    return _object_at(lambda start, count: lines[start : start + count], index, len(lines), span)


# -- both: an object that starts on a line ------------------------------------------------------------------
def _object_at(read: Callable[[int, int], list[str]], index: int, count: int, span: int = 0) -> tuple[int, str] | str:
    """The object that starts on line ``index`` (at its first ``{``): the index of its last line and the
    object as one line, or why there is none (nothing but whitespace may follow it on its last line).

    ``read(start, span)`` gives ``span`` lines from ``start`` on (fewer at the end of the ``count`` lines).
    The decoder reads a growing window of lines from ``index`` on (``span`` lines at first, by default
    `_OBJECT_LINES`). A window that fails on its last line
    may have cut the object short, so it is widened; a failure before the last line, or a success, is
    the same as on the whole text, because the decoder never looks past a line end inside a string and
    stops at the end of the object.
    """
    span = span or _OBJECT_LINES
    while True:
        window = read(index, span)
        text = "\n".join(window)
        start = window[0].index("{")
        try:
            end = _object_end(text, start)
            break
        except (ValueError, RecursionError) as exc:
            cut_short = isinstance(exc, RecursionError) or getattr(exc, "pos", 0) > text.rfind("\n")
            if index + span < count and cut_short:
                span *= 2
                continue
            return f"not valid JSON: {_describe(exc)}"
    last = text.count("\n", 0, end - 1)  # the line of the object's closing brace
    line_end = text.find("\n", end)
    if text[end : line_end if line_end >= 0 else len(text)].strip(_SPACE):
        return "not valid JSON: extra data after the object"
    return index + last, _one_line(text[start:end])


def _open_on_its_line(line: str) -> bool:
    """Whether the object a plain line starts may go on past the line: it does not end on it (a cheap test
    before the lines after it are read)."""
    try:
        _object_end(line, line.index("{"))
    except (ValueError, RecursionError):
        return True
    return False


def _object_end(text: str, start: int) -> int:
    """Where the object at ``text[start]`` ends, read as DuckDB's parser reads it: with Python's decoder,
    taking the trailing commas and bare nan/inf tokens DuckDB takes (each is replaced by whitespace or a
    ``0`` of the same length, so positions hold), so that an object holding one stays one record, which
    the strict rule then rejects naming the fault. Raises the decoder's error for anything else."""
    for _ in range(_LENIENT_PATCHES):
        try:
            return _DECODER.raw_decode(text, start)[1]
        except json.JSONDecodeError as exc:
            patched = _lenient_patch(text, exc.pos)
            if patched is None:
                raise
            text = patched
    return _DECODER.raw_decode(text, start)[1]


def _lenient_patch(text: str, position: int) -> str | None:
    """``text`` with the trailing comma or the bare non-finite token where the decoder stopped made valid."""
    comma = _trailing_comma(text, position)
    if comma is not None:
        return f"{text[:comma]} {text[comma + 1 :]}"
    token = _BARE_NON_FINITE.match(text, position)
    if token is not None and text[:position].rstrip(" \t\r\n")[-1:] in (":", ",", "["):
        return f"{text[:position]}{'0'.ljust(len(token.group()))}{text[token.end() :]}"
    return None


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


def _split_undecodable(records: RecordColumns, data: bytes, first_line: int = 1) -> None:
    """A file that is not valid UTF-8: keep the lines that are, reject the others with the byte offset.
    ``first_line``: the line number of ``data``'s first line (a slice of a file)."""
    lines = data.split(b"\n")
    if lines and lines[0].startswith(_BOM):
        lines[0] = lines[0][3:]
    good: list[str] = []
    first_good = first_line
    for index, raw in enumerate(lines, first_line - 1):
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
