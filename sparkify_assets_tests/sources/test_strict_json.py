"""SPEC.md, "Bad records": a line that is not valid JSON is rejected, though DuckDB's parser (which types the
records in the warehouse) would take it. Valid JSON is what Python's json module reads, with RFC 8259's
numbers (no NaN or infinity, nothing too large for a double)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkify_assets.sources import records
from sparkify_assets.sources.errors import NotJsonText
from sparkify_assets.sources.records import json_fault, split_records

#: What DuckDB's parser takes and Python's json does not (found by trying both, see `test_duckdb_takes_...`):
#: a trailing comma in an object or an array, NaN and infinities in any case, numbers too large for a double.
TRAILING_COMMAS = {
    "object": '{"ts": 1, "page": "Home",}',
    "object, spaces": '{"ts": 1, "page": "Home" ,\t}',
    "array": '{"ts": 1, "tags": [1, 2,]}',
    "nested object": '{"ts": 1, "meta": {"a": 1,}}',
    "nested, then outer": '{"ts": 1, "meta": {"a": [1,],},}',
}
NON_FINITE = ["NaN", "-NaN", "nan", "-nan", "Infinity", "-Infinity", "INFINITY", "inf", "-inf", "Inf"]
TOO_LARGE = ["1e999", "-2E400", "1.5e309", "1" + "0" * 400, "-" + "9" * 320 + ".5", "1" + "0" * 250 + "e99"]


def lenient_records() -> Iterator[tuple[str, str]]:
    """(name, record) for every leniency."""
    yield from TRAILING_COMMAS.items()
    for token in NON_FINITE:
        yield f"bare {token}", f'{{"ts": 1, "length": {token}}}'
        yield f"bare {token} in an array", f'{{"ts": 1, "tags": [1, {token}]}}'
    for number in TOO_LARGE:
        yield f"{number[:12]}... ({len(number)} characters)", f'{{"ts": 1, "length": {number}}}'


LENIENT = dict(lenient_records())


def expected_reason(record: str) -> str:
    """The fault of a planted record, from the record itself."""
    if (comma := re.search(r",\s*[\]}]", record)) is not None:
        return f"trailing comma at column {comma.start() + 1}"
    token = re.search(r"-?(?i:nan|inf(?:inity)?)", record)
    if token is not None:
        return f"{token.group()} is not a JSON number"
    number = re.search(r"-?[0-9][0-9.eE+-]*(?=[\]}])", record)
    assert number is not None
    text = number.group()
    shown = text if len(text) <= 30 else f"{text[:20]}... (a number of {len(text)} characters)"
    return f"{shown} is too large for a double"


def python_reads(text: str) -> bool:
    """Whether Python's json module reads ``text``, with RFC 8259's numbers only."""

    def finite(number: str) -> float:
        if math.isinf(float(number)):
            raise ValueError(number)
        return 0.0

    def constant(name: str) -> None:
        raise ValueError(name)

    try:
        json.loads(text, parse_constant=constant, parse_float=finite, parse_int=finite)
    except (ValueError, RecursionError):
        return False
    return True


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def duckdb_takes(connection: duckdb.DuckDBPyConnection, texts: list[str]) -> list[bool]:
    """Whether the warehouse's parse (``TRY(json_transform(raw_text, shape))``) gives a record for each text."""
    (taken,) = connection.execute(
        """SELECT list_transform(?::VARCHAR[], lambda text: TRY(json_transform(text, '{"ts": "JSON"}')) IS NOT NULL)""",
        [texts],
    ).fetchone()
    return taken


def split_both_ways(data: bytes) -> list[list[tuple[int, str | None]]]:
    """(line number, reason) of each record, for ``data`` as a small file and padded into a large one."""
    large = data + b"\n" + b" " * records.ARROW_SPLIT_BYTES
    result = []
    for file in (data, large):
        split = split_records("k", file)
        result.append(list(zip(split.line_numbers, split.errors, strict=True)))
    return result


def test_duckdb_takes_each_leniency_that_python_json_refuses(duck: duckdb.DuckDBPyConnection) -> None:
    """Why the rule exists: each planted record is taken by DuckDB's parser, and refused by Python's json."""
    assert duckdb_takes(duck, list(LENIENT.values())) == [True] * len(LENIENT)
    assert [name for name, record in LENIENT.items() if python_reads(record)] == []


@pytest.mark.parametrize("record", LENIENT.values(), ids=LENIENT.keys())
def test_a_record_duckdb_would_take_but_that_is_not_json_is_rejected_naming_the_fault(record: str) -> None:
    """SPEC.md, "Bad records": not valid JSON is rejected with the reason, on one line or pretty-printed over
    several (which become one record), in a small file and in a large one alike."""
    reason = f"not valid JSON: {expected_reason(record)}"
    for split in split_both_ways(f'{{"ts": 0}}\n{record}\n{{"ts": 2}}'.encode()):
        assert split == [(1, None), (2, reason), (3, None)]
    pretty = record.replace(", ", ",\n  ")  # the same record over several lines, read back as one
    lines = pretty.count("\n") + 1
    for split in split_both_ways(f"{pretty}\n{{}}".encode()):
        assert [line for line, _ in split] == [1, 1 + lines]
        assert split[0][1] is not None and split[0][1].startswith("not valid JSON: ")


def test_song_files_batched_through_split_into_get_the_same_rule() -> None:
    """The song loader batches many small files through `split_into`; their records follow the same rule."""
    batch = records.RecordColumns()
    songs = [
        '{"song_id": "S1", "duration": 200.5,}',
        '{"song_id": "S2", "duration": 200.5}',
        '{"song_id": "S3", "duration": -inf}',
    ]
    for song in songs:
        records.split_into(batch, song.encode())
    expected = [f"not valid JSON: {expected_reason(songs[0])}", None, f"not valid JSON: {expected_reason(songs[2])}"]
    assert batch.table().column("scan_error").to_pylist() == expected


#: Records that hold what the rule's regular expression looks for, but in strings or as valid numbers.
LOOK_ALIKES = [
    '{"ts": 1, "artist": "Nine Inch Nails, ]", "song": "a,}", "location": "Nanaimo, BC"}',
    '{"ts": 1, "page": ":nan", "userAgent": "[inf, -Infinity]", "title": "1e999"}',
    '{"ts": 1, "length": 1e300, "registration": 1.5E-300, "x": 2e-999}',
    '{"ts": 1, "digits": "' + "9" * 500 + '", "n": 0.' + "0" * 150 + "1}",
    '{"ts": 1, "big": ' + "9" * 300 + "}",  # fits a double
    '{"ts": 1, "s": "\\", }", "t": ","}',
]


@pytest.mark.parametrize("record", LOOK_ALIKES)
def test_valid_json_that_looks_like_a_fault_is_not_rejected(record: str, duck: duckdb.DuckDBPyConnection) -> None:
    """SPEC.md, "Bad records": valid records of the file are all loaded; the rule rejects no valid JSON."""
    assert python_reads(record) and duckdb_takes(duck, [record]) == [True]
    for split in split_both_ways(record.encode()):
        assert split == [(1, None)]


def test_nesting_deeper_than_python_decodes_is_valid_json_but_its_faults_are_found() -> None:
    """SPEC.md, "Bad records": JSON nested deeper than Python's decoder goes is still valid JSON (RFC 8259
    lets a parser limit depth; DuckDB's has none): loaded. A fault deep inside it is still found."""
    depth = 3000
    deep = "[" * depth + "1" + "]" * depth
    faults = {
        "trailing comma": "[" * depth + "1," + "]" * depth,
        "NaN": "[" * depth + "NaN" + "]" * depth,
        "too large": "[" * depth + "1e999" + "]" * depth,
    }
    lines = [f'{{"ts": 1, "deep": {deep}, "s": "[nan,]"}}'] + [f'{{"ts": 1, "deep": {v}}}' for v in faults.values()]
    for split in split_both_ways("\n".join(lines).encode()):
        assert split == [(1, None)] + [
            (n, f"not valid JSON: {expected_reason(line)}") for n, line in enumerate(lines[1:], 2)
        ]
    assert json_fault(lines[0]) is None


# -- found by fuzzing: no record the warehouse would load is refused by Python's json, and vice versa ------
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
strings = st.text(st.sampled_from('ab ,:[]{}"\\/.-+0e1nfiNI\t'), max_size=8)
values = st.recursive(
    scalars | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=8,
)
#: What a mutation inserts or puts in place of a character: JSON's punctuation, pieces of numbers and
#: constants, whitespace JSON has and has not, comments, quotes, escapes, control characters.
TOKENS = list(',:[]{}"\\ \t\r0123456789.-+eE') + [
    ",}", ",]", ", }", "NaN", "nan", "-inf", "Infinity", "1e400", "0x1F", "01", ".5", "1.", "+1", "true", "True",
    "null", "'", "//", "/*", "*/", "#", "\x00", "\x01", "\x0b", "\x0c", "\x7f", "\u00a0", "\u2028", "\ufeff",
    "\\u00", "\\ud800", "\\q", "\\x41", "\\'", "é",
]  # fmt: skip


#: The tokens of DuckDB's leniencies, drawn half the time.
LENIENT_TOKENS = [",", ", ", "nan", "-Inf", "NaN", "-Infinity", "1e400", "9" * 400]


@st.composite
def mutated_records(draw: st.DrawFn) -> str:
    text = json.dumps(draw(st.dictionaries(strings, values, min_size=1, max_size=5)), ensure_ascii=draw(st.booleans()))
    for _ in range(draw(st.integers(1, 3))):
        # Anywhere, or next to JSON's punctuation (where a fault can leave the rest of the record valid).
        marks = [at + after for at, char in enumerate(text) if char in ",:[]{}" for after in (0, 1)]
        position = draw(st.sampled_from(marks) if marks and draw(st.booleans()) else st.integers(0, len(text)))
        token = draw(st.sampled_from(LENIENT_TOKENS if draw(st.booleans()) else TOKENS))
        cut = draw(st.sampled_from([0, 0, 1]))  # insert, or replace a character
        text = text[:position] + token + text[position + cut :]
    return text.replace("\n", " ")


@given(lines=st.lists(mutated_records(), min_size=1, max_size=20), large=st.booleans())
@settings(max_examples=200, deadline=None)
def test_a_record_is_loaded_exactly_when_python_json_reads_it(
    lines: list[str], large: bool, duck: duckdb.DuckDBPyConnection
) -> None:
    """SPEC.md, "Bad records": of the records this module passes on (no reason given here), DuckDB loads only
    those Python's json reads; and a record this module rejects as not valid JSON is one Python's json refuses."""
    data = "\n".join(line for line in lines if line.strip(" \t\r")).encode("utf-8", "surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return  # lone surrogates: the lines are rejected as not UTF-8 (test_records.py)
    if b"\0" in data:
        data = data.replace(b"\0", b"\x01")  # a file with NUL bytes may be refused whole (test_json_text.py)
    if large:
        data += b"\n" + b" " * records.ARROW_SPLIT_BYTES
    try:
        split = split_records("k", data)
    except NotJsonText:
        return  # a file that is a JSON array (test_json_text.py)
    passed = [text for text, error in zip(split.texts, split.errors, strict=True) if error is None]
    taken = duckdb_takes(duck, passed)
    assert [text for text, ok in zip(passed, taken, strict=True) if ok and not python_reads(text)] == []
    rejected = [text for text, error in zip(split.texts, split.errors, strict=True) if error is not None]
    assert [text for text in rejected if python_reads(text) and text.strip(" \t\r").startswith("{")] == []
