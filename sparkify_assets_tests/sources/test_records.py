"""Splitting a source file into records: line numbers, blank lines, multi-line objects, bad lines."""

from __future__ import annotations

import gzip
import json
import math
import re
from unittest.mock import patch

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from sparkify_assets.sources import records
from sparkify_assets.sources.errors import NotJsonText
from sparkify_assets.sources.records import split_records


def rows(data: bytes) -> list[tuple[int, str, str | None]]:
    records = split_records("k", data)
    return list(zip(records.line_numbers, records.texts, records.errors, strict=True))


def outcome(data: bytes) -> list[tuple[int, str, str | None]] | str:
    """The records of a file, or why the file as a whole is refused."""
    try:
        return rows(data)
    except NotJsonText as exc:
        return str(exc)


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
    # A plain line that is the first line of an object: its end comes on later lines (maybe after blank ones).
    '{"a": 1, "b": {"c": 2}', '{"b": {"c": 2}}', ', "x": 1}', '  }', '], "y": [2]}', '{"a": [{"c": 2}', ',',
    '"z": 3}', '{"a": {"c": 2} x', '\x0c', '{"a": 1,}', '{"a": [1, nan]}',
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
    line_by_line = outcome(data)
    with patch.object(records, "ARROW_SPLIT_BYTES", 0), patch.object(records, "_OBJECT_LINES", object_lines):
        assert outcome(data) == line_by_line


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


# -- an object whose first line looks like a whole record ---------------------------------------------------
def both_paths(data: bytes) -> list[list[tuple[int, str, str | None]] | str]:
    """The records of ``data`` split line by line, then with the Arrow kernels (as a large file is)."""
    line_by_line = outcome(data)
    with patch.object(records, "ARROW_SPLIT_BYTES", 0):
        return [line_by_line, outcome(data)]


@pytest.mark.parametrize(
    "tail",
    [["}"], ["", "  }"], [', "x": 1}'], [",", '"x": [1, 2]', "}"], ["", ', "x": {"y": 2}', "", "}"]],
    ids=["closing brace", "after a blank line", "another member", "members over lines", "nested again"],
)
def test_an_object_whose_first_line_ends_with_a_nested_brace_is_one_record(tail: list[str]) -> None:
    """SPEC.md, "Bad records": an object is one record, at its first line, even when that line starts with
    ``{`` and ends with the ``}`` of a nested object; the records around it are untouched."""
    head = '{"a": 1, "b": {"c": 2}'
    lines = ['{"before": 0}', head, *tail, '{"after": 3}']
    data = "\n".join(lines).encode()
    whole = "\n".join([head, *tail])
    for split in both_paths(data):
        assert split == [
            (1, lines[0], None),
            (2, whole.replace("\n", " "), None),
            (3 + len(tail), lines[-1], None),
        ]
        assert json.loads(split[1][1]) == json.loads(whole)


@pytest.mark.parametrize(
    "lines",
    [
        ['{"a": 1}', "}"],  # the line is a whole object: the brace after it is a bad line of its own
        ['{"a": {"b": 1}', '{"c": 2}'],  # a line starting with "{" never continues an object
        ['{"a": {"b": 1}', "} trailing"],  # something after the object on its last line
        ['{"a": {"b": 1}', "] }"],  # not JSON at all
    ],
    ids=["whole object", "next line opens", "trailing text", "not JSON"],
)
def test_a_plain_line_that_does_not_start_an_object_of_several_lines_stays_as_it_was(lines: list[str]) -> None:
    """SPEC.md, "Bad records": when the lines after a ``{...}`` line do not complete an object begun on it,
    each line is judged on its own, as before (a bad line is a reject, and does not swallow the next line)."""
    data = "\n".join(lines).encode()
    for split in both_paths(data):
        assert [(line, text) for line, text, _ in split] == [(1, lines[0]), (2, lines[1])]
        errors = [error for _, _, error in split]
        assert errors[0] is None  # a plain line: the warehouse's parser judges it
        assert (errors[1] is None) == lines[1].startswith("{")


# -- a reference splitter ----------------------------------------------------------------------------------
_JSON_SPACE = " \t\r"


def _strict(text: str) -> bool:
    """Whether Python's json module reads ``text`` as one JSON value with only finite numbers."""

    def finite(number: str) -> float:
        if math.isinf(float(number)):
            raise ValueError(number)
        return 0.0

    def no_constant(name: str) -> None:
        raise ValueError(name)

    try:
        json.loads(text, parse_constant=no_constant, parse_float=finite, parse_int=finite)
    except (ValueError, RecursionError):
        return False
    return True


#: What DuckDB's parser takes beyond JSON, outside strings: a trailing comma, a bare nan/inf token as a value.
_LENIENCIES = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|,(?=[ \t\r\n]*[}\]])|(?P<before>[:,\[][ \t\r\n]*)(?P<token>[-+]?(?:nan|inf(?:inity)?))',
    re.IGNORECASE,
)


def _as_json(match: re.Match[str]) -> str:
    """The same number of characters, made valid JSON: a string stays, a comma goes, a token becomes 0."""
    if match.group("token"):
        return match.group("before") + "0".ljust(len(match.group("token")))
    return match.group() if match.group().startswith('"') else " "


def reference_split(text: str) -> list[tuple[int, str, bool]]:
    """Records as `json.JSONDecoder.raw_decode` finds them: from each line that starts with ``{`` (after
    JSON whitespace), the object decoded there when nothing but whitespace follows it on its last line;
    otherwise the line itself, not valid. Objects end where DuckDB's parser ends them: the decoder reads the
    text with DuckDB's leniencies made valid JSON (the record is the text as written, and not valid).
    Returns (line number, text, valid) for each record."""
    decoder = json.JSONDecoder()
    readable = _LENIENCIES.sub(_as_json, text)
    assert len(readable) == len(text)
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    found: list[tuple[int, str, bool]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip(_JSON_SPACE)
        if not stripped:
            index += 1
            continue
        if stripped[0] == "{":
            begin = starts[index] + line.index("{")
            try:
                _, end = decoder.raw_decode(readable, begin)
            except (ValueError, RecursionError):
                end = -1
            last = max(number for number, start in enumerate(starts) if start <= end - 1) if end > 0 else -1
            if end > 0 and not lines[last][end - starts[last] :].strip(_JSON_SPACE):
                record = text[begin:end].replace("\n", " ")
                found.append((index + 1, record, _strict(record)))
                index = last + 1
                continue
        found.append((index + 1, stripped if stripped[0] == "{" and stripped[-1] == "}" else line, False))
        index += 1
    return found


scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False)
words = st.text(st.sampled_from('ab{}[],: "\\é'), max_size=6)
values = st.recursive(
    scalars | words, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3), max_leaves=6
)
objects = st.dictionaries(words, values, max_size=4)


@st.composite
def split_objects(draw: st.DrawFn) -> list[str]:
    """An object whose first line ends with the ``}`` of a nested object, and whose rest comes on later lines
    (with blank lines between, maybe): ``{"k": ..., "n": {...}`` then ``}`` or ``, "m": ...}``."""
    before = json.dumps(draw(objects))[:-1]
    nested = json.dumps(draw(st.dictionaries(words, values, min_size=0, max_size=2)))
    head = f'{before}{", " if before != "{" else ""}"n": {nested}'
    rest = [json.dumps(draw(words)) + ": " + json.dumps(draw(values)) for _ in range(draw(st.integers(0, 2)))]
    tail = (", " + ", ".join(rest) if rest else "") + "}"
    pieces = draw(st.sampled_from([[tail], tail.split(", ")]))
    blanks = st.lists(st.sampled_from(["", " ", "\t", "\r"]), max_size=2)
    return [head, *[line for piece in pieces if piece for line in [*draw(blanks), piece]]]


@st.composite
def lenient_objects(draw: st.DrawFn) -> list[str]:
    """A pretty-printed object holding what DuckDB's parser takes beyond JSON: a trailing comma before a
    closing bracket, or a bare nan/inf token for a value."""
    lines = json.dumps(draw(objects.filter(bool)), indent=2).split("\n")
    closing = [i for i in range(1, len(lines)) if lines[i].strip()[0] in "}]" and lines[i - 1][-1] not in "{["]
    if closing and draw(st.booleans()):
        at = draw(st.sampled_from(closing))
        lines[at - 1] += ","
    else:
        at = draw(st.integers(1, len(lines) - 1))
        token = draw(st.sampled_from(["nan", "-Infinity", "inf", "NaN"]))
        lines.insert(at, f"  {json.dumps(draw(words))}: {token}" + ("," if lines[at].strip()[0] not in "}]" else ""))
        if lines[at].strip()[0] in "}]" and lines[at - 1][-1] not in "{[,":
            lines[at - 1] += ","
    return lines


bad_lines = st.sampled_from(
    ["}", "]", ", 1}", '{"a":', '{"a": 1} x', "123", '"s"', "[1]", "{", '{"a": {"b": 1}', "nan", "\x0c", "\u00a0"]
    + ['"x": 1,', '"y": [1,', "-inf,", "  ],", '{"a": 1,}', '{"a": [1, nan]}', '"t": "nan, }"', "1nan}"]
)
chunks = st.one_of(
    objects.map(lambda value: [json.dumps(value)]),
    st.tuples(objects, st.sampled_from([1, 2, 4])).map(lambda pair: json.dumps(pair[0], indent=pair[1]).split("\n")),
    split_objects(),
    lenient_objects(),
    bad_lines.map(lambda line: [line]),
    st.sampled_from(["", "  ", "\r"]).map(lambda line: [line]),
)


@given(file=st.lists(chunks, max_size=12), crlf=st.booleans(), object_lines=st.sampled_from([1, 2, 64]))
@settings(max_examples=300, deadline=None)
def test_records_are_what_a_raw_decode_splitter_finds_on_either_path(
    file: list[list[str]], crlf: bool, object_lines: int
) -> None:
    """SPEC.md, "Bad records": each record (one-line, pretty-printed, split after a nested object) is found
    once at its first line, each bad line is a record of its own, on both paths; a record is taken as valid
    (no reason here, and Python's json reads it) exactly when the reference splitter decodes it."""
    text = ("\r\n" if crlf else "\n").join(line for chunk in file for line in chunk)
    expected = reference_split(text)
    data = text.encode()
    try:
        records.require_json_text("k", data)
    except NotJsonText:
        assume(False)  # a file that is one JSON array: refused whole (test_json_text.py)
    with patch.object(records, "_OBJECT_LINES", object_lines):
        for split in both_paths(data):
            assert isinstance(split, list)
            assert [(line, text) for line, text, _ in split] == [(line, text) for line, text, _ in expected]
            assert [error is None and _strict(text) for _, text, error in split] == [ok for *_, ok in expected]


# -- song files: a file that is one object on one line is its one record -------------------------------------
def test_a_song_file_of_one_line_is_its_one_record_without_a_line_by_line_split() -> None:
    """Nearly every song file is one object on one line (whitespace after it aside): `split_into` takes it
    whole, without the checks of the file as a whole or the line-by-line split (ten times the cost)."""
    batch = records.RecordColumns()
    with (
        patch.object(records, "require_json_text", side_effect=AssertionError("checked")),
        patch.object(records, "_split_bytes", side_effect=AssertionError("split line by line")),
    ):
        records.split_into(batch, '{"song_id": "S1", "title": "é"}\r\n'.encode(), "song_data/A/S1.json")
        records.split_into(batch, b'{"song_id": "S2", "duration": NaN}', "song_data/A/S2.json")
    assert (batch.line_numbers, batch.texts) == (
        [1, 1],
        ['{"song_id": "S1", "title": "é"}', '{"song_id": "S2", "duration": NaN}'],
    )
    assert batch.table().column("scan_error").to_pylist() == [None, "not valid JSON: NaN is not a JSON number"]


def split_song_files(files: list[bytes], shortcut: bool) -> tuple[list[tuple[int, str, str | None]], list[int | str]]:
    """The records of ``files`` batched through `split_into` as the song loader batches them, with the one-line
    shortcut or without it (every file checked, then split line by line), and how many records each file
    gave, or why it was refused as a whole."""
    batch, per_file = records.RecordColumns(), []
    with patch.object(records, "_one_line_object", records._one_line_object if shortcut else lambda data: None):
        for number, data in enumerate(files):
            before = len(batch)
            try:
                records.split_into(batch, data, f"song_data/A/{number}.json")
                per_file.append(len(batch) - before)
            except NotJsonText as exc:
                per_file.append(str(exc))
    table = batch.table()
    return list(zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True)), per_file


song_texts = st.one_of(
    objects.map(json.dumps),  # what nearly every song file is
    objects.map(lambda value: json.dumps(value, ensure_ascii=False)),
    st.tuples(objects, st.sampled_from([1, 2, 4])).map(lambda pair: json.dumps(pair[0], indent=pair[1])),
    lenient_objects().map(" ".join),  # trailing commas, NaN... on one line
    st.lists(chunks, max_size=4).map(lambda file: "\n".join(line for chunk in file for line in chunk)),
    st.sampled_from([*_PIECES, '{"song_id": "S", "duration": 1e999}', '{"song_id": "S"} {"song_id": "T"}']),
)


@st.composite
def song_files(draw: st.DrawFn) -> bytes:
    """A song file of any kind: one-line, pretty-printed, several objects, bad or lenient JSON, blank lines,
    whitespace before or after, a BOM, CRLF or CR line ends, a CR, a NUL or an invalid UTF-8 byte inside, or not
    JSON text at all (UTF-16, gzip, an array)."""
    text = draw(song_texts)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    text = (
        draw(st.sampled_from(["", "", " ", "\n", "\ufeff"]))
        + text
        + draw(st.sampled_from(["", "\n", "\r\n", " \n\n\t", "\r"]))
    )
    data = text.encode()
    kind = draw(st.sampled_from(["as is", "as is", "inserted", "utf-16", "gzip", "array"]))
    if kind == "inserted":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\r", b"\0", b"\xff", b"\xc3", b"\n"])) + data[at:]
    elif kind == "utf-16":
        data = text.encode("utf-16")
    elif kind == "gzip":
        data = gzip.compress(data, mtime=0)
    elif kind == "array":
        data = b"[" + data + b"]"
    return data


@given(files=st.lists(song_files(), min_size=1, max_size=6))
@example(files=[b'{"song_id": "S"}\r{"song_id": "T"}\r'])  # CR-ended lines: refused
@example(files=[b'{"song_id": "S", "title": "\0\0\0\0"}'])  # a run of NUL bytes: refused
@example(files=[b'\n{"song_id": "S"}', b' {"song_id": "S"} ', b"{\n}"])
@settings(max_examples=200, deadline=None)
def test_song_files_give_the_same_records_and_errors_with_the_one_line_shortcut(files: list[bytes]) -> None:
    """SPEC.md, "Bad records": the shortcut changes nothing but the time: the same records, line numbers,
    texts, reasons (the strict JSON rule included) and the same files refused, naming the same fault."""
    assert split_song_files(files, shortcut=True) == split_song_files(files, shortcut=False)
