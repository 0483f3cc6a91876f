"""SPEC.md, "Bad records", under fuzzing: hostile day files never crash the source reader or the staging
load, every valid record loads, and every other record is rejected with a reason.

Each generated file is a sequence of planted items, and the generator knows what each one is, which is
the independent expectation: a *valid* record (an object with an integer ts on the partition day and a
good userId, and other fields that fit their type), an *invalid* one (not JSON, not an object, truncated, ts
missing or of the wrong type, a bad userId, NaN, Infinity or an overflowing number in any field, a line
that is not UTF-8...), or a *hostile* one that SPEC.md leaves open (a lone surrogate, a BOM in the middle
of the file, deep nesting over several lines): it must be loaded or rejected with a reason, exactly once. Items are
separated by blank lines, ends of line are LF or CRLF, the file may start with a BOM, and huge strings
push files past the size where `split_records` switches to its Arrow path.

Only ambiguity is avoided: no garbage line holds a ``}`` (which could close a truncated line above it
into one valid object), and no object repeats a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from dagster import build_resources
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import event_key
from sparkify_assets.sources.records import split_records
from sparkify_assets.warehouse.duckdb.engine import SQL as DUCKDB_SQL
from sparkify_assets.warehouse.layout import expected_tables
from sparkify_assets_tests.conftest import duckdb_warehouse, local_source, resources_for, run_graph
from sparkify_assets_tests.faults.conftest import SPEC_ASSETS
from sparkify_assets_tests.faults.figures import add

pytestmark = pytest.mark.faults

DAY = date(2018, 11, 5)
DAY_START_MS = 1541376000000  # 2018-11-05T00:00:00Z
KEY = event_key(DAY)
BOM = "\ufeff"
FIELDS = (
    "artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level", "location",
    "method", "page", "registration", "sessionId", "song", "status", "userAgent",
)  # fmt: skip
INT32 = (-(2**31), 2**31 - 1)


def fuzz(max_examples: int) -> settings:
    """Modest budgets (the faults suite stays under 90 s); no example database left in the repository."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


@dataclass
class Item:
    """One planted record: its lines (without ends) and what the warehouse must make of it."""

    kind: str  # "valid" | "invalid" | "hostile"
    lines: list[str | bytes]
    value: dict[str, Any] | None = None  # the object a valid record must come out as (None: not compared)
    ts: int | None = None  # unique, for valid and hostile records
    line_number: int = 0  # set when the file is assembled

    @property
    def span(self) -> range:
        return range(self.line_number, self.line_number + len(self.lines))


@dataclass
class DayFile:
    data: bytes
    items: list[Item] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> Iterator[Item]:
        return (item for item in self.items if item.kind in kinds)


# -- values ---------------------------------------------------------------------------------------------
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
huge_text = st.builds(lambda s, n: s * n, st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=4),
                      st.integers(20_000, 40_000))  # fmt: skip
finite = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text.filter(lambda k: k != "ts"), inner, max_size=3),
    max_leaves=8,
)
INTEGER_FIELDS = {"itemInSession": INT32, "status": INT32, "sessionId": (-(2**63), 2**63 - 1)}
NUMBER_FIELDS = ("length", "registration")
TEXT_FIELDS = tuple(f for f in FIELDS if f not in INTEGER_FIELDS and f not in NUMBER_FIELDS)


#: Each text field's width in bytes: its staging_events column's, as create_tables.sql declares it.
TEXT_WIDTHS = {
    f: width
    for table in expected_tables(DUCKDB_SQL / "create_tables.sql")
    if table.name == "staging_events"
    for column in table.columns
    for f in TEXT_FIELDS
    if column.name == re.sub(r"([A-Z])", r"_\1", f).lower() and (width := column.width) is not None
}


def _fits(value: Any, width: int) -> bool:
    """Whether a JSON value's text surely fits ``width`` bytes: json.dumps escapes every non-ASCII character
    into six bytes (UTF-8 takes at most four) and quotes a string, so its length bounds the stored text's,
    with room for another engine's spelling of a number or a list."""
    return len(json.dumps(value)) * 2 <= width


def _fitting(name: str) -> st.SearchStrategy[Any]:
    """Values an optional field takes (SPEC.md: stored as written, as COPY converts it): any JSON value for a
    text field (its text) that fits its column's width; for a number field, a JSON number or a string holding
    one, or null."""
    if name in INTEGER_FIELDS:
        return st.none() | st.integers(*INTEGER_FIELDS[name]) | st.integers(*INT32).map(str)
    if name in NUMBER_FIELDS:
        return st.none() | finite | st.integers(-(2**53), 2**53) | finite.map(json.dumps)
    width = TEXT_WIDTHS[name]
    if width < 64:  # a short string or a scalar: most lists and long strings would not fit
        short = st.none() | st.booleans() | st.integers(-999, 999) | st.text(max_size=2)
        return short.filter(lambda v: _fits(v, width))
    return (json_values | text).filter(lambda v: _fits(v, width))


#: Optional fields whose values fit their column.
optional_fields = st.lists(st.sampled_from(FIELDS), unique=True, max_size=6).flatmap(
    lambda names: st.fixed_dictionaries({name: _fitting(name) for name in names})
)
#: Values of the wrong type for a number field: never turned into another number, the record is rejected.
wrong_numbers = st.one_of(
    st.booleans(), st.sampled_from(["", "x", "NaN", "Infinity", "1,5"]), st.lists(st.integers(), max_size=2)
)
good_user_ids = st.one_of(
    st.just(None),
    st.sampled_from(["", "  "]),
    st.integers(*INT32),
    st.integers(*INT32).map(str),
    st.integers(0, 99999).map(lambda n: f" {n} "),
)
bad_user_ids = st.one_of(
    st.integers(2**31, 2**63).map(str),
    st.integers(2**31, 2**40),
    finite.filter(lambda x: x != int(x)),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.text(st.sampled_from("abcXYZ- .;'"), min_size=1, max_size=8).filter(lambda s: s.strip() != ""),
)
bad_ts = st.one_of(
    st.integers(DAY_START_MS, DAY_START_MS + 86_399_999).map(str),
    st.floats(1e12, 2e12).filter(lambda x: x != int(x)),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.integers(2**64, 2**80),
    text,
)


def render(value: dict[str, Any], style: dict[str, Any]) -> list[str]:
    """The lines of an object, as a file might hold it."""
    rendered = json.dumps(value, indent=style["indent"], ensure_ascii=style["ascii"], separators=style["separators"])
    lines = rendered.split("\n")
    lines[0] = style["lead"] + lines[0]
    lines[-1] = lines[-1] + style["trail"]
    return lines


styles = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, None, None, 2, 4]),
        "ascii": st.booleans(),
        "separators": st.sampled_from([None, (",", ":")]),
        "lead": st.sampled_from(["", "", " ", "\t"]),
        "trail": st.sampled_from(["", "", " "]),
    }
).map(lambda s: {**s, "separators": s["separators"] if s["indent"] is None else None})


# -- items ----------------------------------------------------------------------------------------------
@st.composite
def valid_items(draw: st.DrawFn, ts: int) -> Item:
    value = {**draw(optional_fields), "ts": ts}
    if draw(st.integers(0, 9)) == 0:  # a huge string: the file goes past split_records' Arrow threshold
        value["comment"] = draw(huge_text)  # in a field nothing stores: a stored one has a width
    user_id = draw(good_user_ids)
    if user_id is not None or draw(st.booleans()):
        value["userId"] = user_id
    return Item("valid", render(value, draw(styles)), value, ts)


@st.composite
def invalid_items(draw: st.DrawFn, ts: int) -> Item:
    kind = draw(st.sampled_from(["ts missing", "ts type", "ts NaN", "not a number", "user id", "not object",
                                 "truncated", "garbage", "not utf-8", "raw control", "wrong type",
                                 "too long"]))  # fmt: skip
    value = {**draw(optional_fields), "ts": ts}
    if kind == "ts missing":
        del value["ts"]
    elif kind == "ts type":
        value["ts"] = draw(bad_ts)
    elif kind == "user id":
        value["userId"] = draw(bad_user_ids)
    elif kind == "wrong type":
        name = draw(st.sampled_from([*INTEGER_FIELDS, *NUMBER_FIELDS]))
        bad = draw(wrong_numbers | (finite.filter(lambda x: x != int(x)) if name in INTEGER_FIELDS else wrong_numbers))
        value[name] = bad
    elif kind == "too long":  # longer than its column in UTF-8 bytes, maybe not in characters
        name = draw(st.sampled_from(sorted(TEXT_WIDTHS)))
        char = draw(st.sampled_from(["x", "é", "€", "😀"]))
        value[name] = char * (TEXT_WIDTHS[name] // len(char.encode("utf-8")) + draw(st.integers(1, 3)))
    if kind in {"ts missing", "ts type", "user id", "wrong type", "too long"}:
        return Item("invalid", render(value, draw(styles)))
    if kind == "ts NaN":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        return Item("invalid", [f'{{"page": "NextSong", "ts": {token}}}'])
    if kind == "not a number":  # not JSON numbers (RFC 8259), though DuckDB's parser would take them
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "-inf", "1e999", "-2E400"]))
        name = draw(st.sampled_from(["length", "registration", "itemInSession", "artist", "extra"]))
        value.pop(name, None)
        return Item("invalid", [f'{json.dumps(value)[:-1]}, "{name}": {token}}}'])
    if kind == "not object":
        scalar = draw(
            st.one_of(st.lists(json_values, max_size=3), st.integers(), finite, st.booleans(), st.none(), text)
        )
        return Item("invalid", [draw(st.sampled_from(["", " "])) + json.dumps(scalar)])
    if kind == "truncated":
        line = json.dumps(value, ensure_ascii=draw(st.booleans()))
        return Item("invalid", [line[: draw(st.integers(1, len(line) - 1))]])
    if kind == "garbage":
        garbage = draw(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="}\n\r"), min_size=1))
        return Item("invalid", [garbage if garbage.strip() else garbage + "x"])
    if kind == "not utf-8":
        # No NUL bytes: several in a file make it NUL-ridden, refused whole (sources/test_json_text.py).
        raw = draw(st.binary(max_size=40)).replace(b"\n", b" ").replace(b"\0", b"")
        cut = draw(st.integers(0, len(raw)))
        return Item(
            "invalid",
            [raw[:cut] + draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xe2\x82"])) + raw[cut:]],
        )
    # A raw control character (NUL, tab...) inside a string: not JSON.
    control = draw(st.sampled_from(["\x00", "\x01", "\t", "\x1f"]))
    return Item("invalid", [f'{{"ts": {ts}, "artist": "a{control}b"}}'])


@st.composite
def hostile_items(draw: st.DrawFn, ts: int) -> Item:
    kind = draw(st.sampled_from(["surrogate", "bom", "deep", "escaped nul"]))
    value: dict[str, Any] = {**draw(optional_fields), "ts": ts}
    style = draw(styles)
    if kind == "surrogate":
        value["artist"] = "x\ud800y"  # rendered as the escape \ud800, which only json.dumps writes
        return Item("hostile", render(value, {**style, "ascii": True}), value, ts)
    if kind == "bom":
        lines = render(value, style)
        return Item("hostile", [BOM + lines[0], *lines[1:]], value, ts)
    if kind == "deep":
        depth = draw(st.integers(900, 3000))
        multi_line = draw(st.booleans())
        nested = "[" * depth + "]" * depth
        if multi_line:  # Python's decoder has a depth limit: "nested too deeply" is a fair reject
            return Item("hostile", [f'{{"ts": {ts},', f' "deep": {nested}}}'], None, ts)
        return Item("valid", [f'{{"ts": {ts}, "deep": {nested}}}'], None, ts)
    value["artist"] = "a\x00b"  # escaped as \u0000: valid JSON; kept as a NUL in the string or rejected
    return Item("hostile", render(value, style), value, ts)


def _first_text(item: Item) -> str:
    """The item's text as a file shows it, around its lines (bytes read leniently)."""
    text = "\n".join(line if isinstance(line, str) else line.decode("utf-8", "replace") for line in item.lines)
    return text.strip(" \t\r\n\ufeff")


@st.composite
def day_files(draw: st.DrawFn, max_items: int = 10) -> DayFile:
    count = draw(st.integers(0, max_items))
    items = []
    for position in range(count):
        ts = DAY_START_MS + position * 1000 + draw(st.integers(0, 999))
        strategy = draw(st.sampled_from([valid_items, valid_items, invalid_items, hostile_items]))
        items.append(draw(strategy(ts)))
    if items and _first_text(items[0]).startswith("[") and _first_text(items[-1]).rstrip().endswith("]"):
        # Would read as one JSON array, a file refused whole (sources/test_json_text.py): end on a record.
        items.append(draw(valid_items(DAY_START_MS + count * 1000)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    chunks: list[bytes] = []
    line_number = 1
    if draw(st.booleans()):
        chunks.append(BOM.encode())
    for item in items:
        for _ in range(draw(st.integers(0, 2))):  # blank lines between records
            chunks.append(draw(st.sampled_from(["", " ", "\t", "  \t"])).encode() + newline.encode())
            line_number += 1
        item.line_number = line_number
        for line in item.lines:
            chunks.append(
                (line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")) + newline.encode()
            )
            line_number += 1
    data = b"".join(chunks)
    if items and not draw(st.booleans()):
        data = data[: -len(newline)]  # no end of line after the last record
    return DayFile(data, items)


def staging_user_id(value: dict[str, Any]) -> str | None:
    """What staging_events.user_id holds for a valid record (SPEC.md: userId is a string; trimmed)."""
    user_id = value.get("userId")
    return user_id.strip() if isinstance(user_id, str) else None if user_id is None else str(user_id)


# -- the source reader ------------------------------------------------------------------------------------
@fuzz(max_examples=100)
@given(day_files())
def test_split_records_finds_every_record_once_and_gives_each_reject_a_reason(day: DayFile) -> None:
    add("fuzz cases tried")
    records = split_records(KEY, day.data)  # never raises
    found = {line: (text, error) for line, text, error in zip(records.line_numbers, records.texts, records.errors,
                                                             strict=True)}  # fmt: skip
    assert records.line_numbers == sorted(found), "records out of order or repeated"
    assert all(error is None or error.strip() for _, error in found.values()), "a reject without a reason"
    spans = {line: item for item in day.items for line in item.span}
    assert set(found) <= set(spans), f"records where nothing was planted: {sorted(set(found) - set(spans))}"
    lost = 0
    for item in day.items:
        inside = [line for line in item.span if line in found]
        if item.kind == "hostile" and inside != [item.line_number]:
            # One it cannot read as one object (a BOM before it, nesting deeper than Python decodes): its lines
            # become records of their own, for the warehouse to reject (checked by the staging test below).
            assert inside, f"hostile record at line {item.line_number} vanished"
            continue
        assert inside == [item.line_number], f"the record at line {item.line_number} was found at lines {inside}"
        text, error = found[item.line_number]
        if item.kind == "valid":
            ok = error is None and (item.value is None or json.loads(text) == item.value)
            lost += not ok
            assert ok, f"valid record at line {item.line_number} came out as {text[:200]!r} ({error})"
    add("valid rows lost", lost)


def test_a_lone_surrogate_escape_in_a_multi_line_record_is_a_record_not_a_crash() -> None:
    """Found by the fuzzer: ``"\\ud800"`` decodes in Python to a string UTF-8 cannot hold."""
    data = b'{\n  "ts": 1541376000001,\n  "artist": "x\\ud800y"\n}\n{"ts": 1541376000002}\n'
    for padded in (data, data + b" " * 70_000):  # the line-by-line path and the Arrow path
        records = split_records(KEY, padded)
        assert records.line_numbers == [1, 5] and records.errors == [None, None]
        assert json.loads(records.texts[0]) == {"ts": 1541376000001, "artist": "x\ud800y"}


# -- the staging load -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """The DuckDB warehouse held open as in a run, and a source folder whose day file each example rewrites."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "source" / KEY).parent.mkdir(parents=True)
    # Hostile days are mostly bad records: the share that fails a file as a broken export is lifted here,
    # so each record's own fate is what is checked (the share rule has its own tests).
    warehouse = duckdb_warehouse(root / "fuzz.duckdb", max_reject_percent=100)
    with build_resources({"warehouse": warehouse}) as resources:
        resources.warehouse.create_tables()
        yield resources.warehouse, root / "source"


@fuzz(max_examples=40)
@given(day=day_files(max_items=8))
def test_the_staging_load_keeps_every_valid_record_and_rejects_the_rest_with_a_reason(
    staging: tuple[Any, Path], day: DayFile
) -> None:
    add("fuzz cases tried")
    warehouse, source_root = staging
    (source_root / KEY).write_bytes(day.data)
    loads = warehouse.load_staging_events(local_source(source_root), DayWindow(DAY, DAY), lambda message: None)
    rows = warehouse.query("SELECT ts, user_id, artist FROM staging_events WHERE partition_day = :day", {"day": DAY})
    rejects = warehouse.query("SELECT line_number, reason FROM staging_rejects WHERE source_key = :key", {"key": KEY})
    loaded = {ts: (user_id, artist) for ts, user_id, artist in rows}
    rejected = dict(rejects)
    assert len(loaded) == len(rows) and len(rejected) == len(rejects), "a record loaded or rejected twice"
    assert all(reason and reason.strip() for reason in rejected.values()), "a reject without a reason"
    assert len(rows) + len(rejects) == sum(load.records for load in loads)

    lost = [item for item in day.of_kind("valid") if item.ts not in loaded]
    add("valid rows lost", len(lost))
    assert not lost, f"valid records lost: {[(i.line_number, rejected.get(i.line_number)) for i in lost]}"
    for item in day.of_kind("valid"):
        user_id, artist = loaded[item.ts]
        assert user_id == staging_user_id(item.value or {})
        if item.value is not None and isinstance(item.value.get("artist"), str):
            assert artist == item.value["artist"]
        assert not any(line in rejected for line in item.span), f"valid record at {item.line_number} also rejected"
    for item in day.of_kind("invalid"):
        assert item.line_number in rejected, f"invalid record at line {item.line_number} was not rejected"
    for item in day.of_kind("hostile"):
        rejected_lines = [line for line in item.span if line in rejected]
        assert (item.ts in loaded) != bool(rejected_lines), f"hostile record at {item.line_number}: loaded and rejected"


# -- the whole graph on one hostile file -------------------------------------------------------------------
def test_a_hostile_day_runs_through_the_whole_graph(tmp_path: Path) -> None:
    """One file with every kind of hostile line: staging, the star tables and every check succeed."""
    good = {"page": "NextSong", "song": "S", "artist": "A", "length": 200.0, "level": "free", "userId": "7"}
    lines = [
        "\ufeff" + json.dumps({**good, "ts": DAY_START_MS + 1}),
        json.dumps({**good, "ts": DAY_START_MS + 2, "artist": "a\x00b", "length": float("nan")}),
        json.dumps({**good, "ts": DAY_START_MS + 3, "userId": "x'; DROP TABLE users; --"}),
        json.dumps({**good, "ts": DAY_START_MS + 4, "comment": "s" * 500_000}),  # a field nothing stores
        json.dumps({**good, "ts": DAY_START_MS + 10, "song": "s" * 500_000}),  # longer than its column
        '{"ts": ' + str(DAY_START_MS + 5) + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}",
        json.dumps({**good, "ts": DAY_START_MS + 6}, indent=2).replace("\n", "\r\n"),
        '{"ts": 1541376000007, "artist": "x\ud800"}',
        "\x00\x01\x02",
        '{"ts": NaN}',
        "[]",
        '{"ts": "1541376000008"}',
        json.dumps({**good, "ts": DAY_START_MS + 9, "userId": 2**40}),
    ]
    data = "\r\n".join(lines).encode("utf-8", "surrogatepass") + b"\xff\xfe\n"
    source = tmp_path / "source"
    (source / KEY).parent.mkdir(parents=True)
    (source / KEY).write_bytes(data)
    (source / "song_data").mkdir()
    resources = resources_for(source, tmp_path / "w.duckdb", max_reject_percent=100)  # mostly bad, on purpose
    result = run_graph(resources, partition=DAY.isoformat(), selection=SPEC_ASSETS)
    assert result.success
    assert [e.check_name for e in result.get_asset_check_evaluations() if not e.passed] == []
    warehouse = duckdb_warehouse(tmp_path / "w.duckdb")
    loaded = {ts for (ts,) in warehouse.query("SELECT ts FROM staging_events")}
    assert {DAY_START_MS + n for n in (1, 4, 5, 6)} <= loaded
    assert DAY_START_MS + 2 not in loaded  # NaN is not a JSON number
    assert warehouse.query("SELECT line_number, reason FROM staging_rejects WHERE line_number = 2") == [
        (2, "not valid JSON: NaN is not a JSON number")
    ]
    assert warehouse.query("SELECT reason FROM staging_rejects WHERE line_number = 5") == [
        ("song is 500000 bytes long, longer than staging_events.song VARCHAR(512)",)
    ]
    assert warehouse.query("SELECT COUNT(*) FROM staging_rejects WHERE reason IS NULL OR reason = ''") == [(0,)]
    add("fuzz cases tried")


# -- known gaps (SPEC.md leaves them open; reported, not fixed here) --------------------------------------------
def _one_day_source(root: Path, events: list[dict[str, Any]]) -> Path:
    (root / KEY).parent.mkdir(parents=True)
    (root / KEY).write_text("".join(json.dumps(event) + "\n" for event in events))
    (root / "song_data").mkdir()
    return root


STAR = ["staging_events", "users", "time", "songplays"]
PLAY = {"page": "NextSong", "userId": "7", "level": "free", "song": "S", "artist": "A", "length": 1.0}


def test_a_ts_beyond_the_timestamp_range_is_rejected_in_staging(tmp_path: Path) -> None:
    source = _one_day_source(tmp_path / "source", [{**PLAY, "ts": DAY_START_MS + 1}, {**PLAY, "ts": 2**63 - 1}])
    result = run_graph(resources_for(source, tmp_path / "w.duckdb"), partition=DAY.isoformat(), selection=STAR,
                       raise_on_error=False)  # fmt: skip
    assert result.success
    (reason,) = duckdb_warehouse(tmp_path / "w.duckdb").query("SELECT reason FROM staging_rejects")[0]
    assert reason.endswith(f"is not on the partition day {DAY.isoformat()}")


def test_an_event_outside_its_files_day_never_duplicates_on_a_rerun(tmp_path: Path) -> None:
    two_days_later = DAY_START_MS + 2 * 86_400_000 + 5
    source = _one_day_source(tmp_path / "source", [{**PLAY, "ts": DAY_START_MS + 1}, {**PLAY, "ts": two_days_later}])
    for _ in range(2):
        result = run_graph(resources_for(source, tmp_path / "w.duckdb"), partition=DAY.isoformat(), selection=STAR,
                           raise_on_error=False)  # fmt: skip
        assert result.success
    warehouse = duckdb_warehouse(tmp_path / "w.duckdb")
    assert warehouse.query("SELECT COUNT(*) - COUNT(DISTINCT start_time) FROM time") == [(0,)]
    assert warehouse.query("SELECT line_number, reason FROM staging_rejects") == [
        (2, f"ts {two_days_later} is not on the partition day {DAY.isoformat()}")
    ]
