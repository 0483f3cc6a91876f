"""Day files read by DuckDB's own reader (`day_lines.py`) load exactly what the Python split of them loads: the
same staging rows, the same rejects (line numbers, raw text, reasons), the same staging_files counts, whichever
way each file went. The files mix every kind of line the splitter tells apart, so that some files go to
DuckDB's reader, some are split in Python, and some start in DuckDB and fall back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sparkify_assets.sources.records as records
import sparkify_assets.warehouse.duckdb.day_lines as day_lines
import sparkify_assets.warehouse.duckdb.engine as engine
from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import event_key
from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse
from sparkify_assets.warehouse.engine import FileLoad
from sparkify_assets_tests.conftest import duckdb_warehouse, local_source

FIRST_DAY = date(2018, 11, 5)
#: Lines longer than this are left to Python in these tests (ENGINE_LINE_BYTES is 1 MiB in the product).
SHORT_LINE_LIMIT = 400


def event(day: date, n: int, **fields: Any) -> dict[str, Any]:
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    return {
        "artist": f"Artist {n}", "auth": "Logged In", "firstName": "Ann", "gender": "F", "itemInSession": n,
        "lastName": "Lee", "length": 200.5, "level": "free", "location": "Here, CA", "method": "PUT",
        "page": "NextSong", "registration": 1540919166796.0, "sessionId": 7, "song": f"Song {n}", "status": 200,
        "ts": midnight + 1000 * n, "userAgent": "Mozilla/5.0", "userId": str(10 + n % 5), **fields,
    }  # fmt: skip


def line_kinds(day: date) -> dict[str, Callable[[int], bytes]]:
    """Each kind of line (or lines) a day file may hold, given a number that varies the record."""

    def dump(n: int, **fields: Any) -> bytes:
        return json.dumps(event(day, n, **fields), ensure_ascii=False).encode()

    return {
        "record": dump,
        "compact record": lambda n: json.dumps(event(day, n), separators=(",", ":")).encode(),
        "non-ASCII record": lambda n: dump(n, artist="Björk é ü"),
        "record that looks lenient": lambda n: dump(n, artist="Guns, Infinity", song="[nan, 1e999,]"),
        "ts off the day": lambda n: dump(n, ts=event(day + timedelta(days=1), n)["ts"]),
        "wrong type": lambda n: dump(n, itemInSession=n + 0.5),
        "blank": lambda n: b"",
        "spaces": lambda n: b"   \t",
        "pretty-printed": lambda n: json.dumps(event(day, n), indent=2).encode(),
        "nested record": lambda n: dump(n)[:-1] + b', "extra": [\n' + dump(n + 1) + b"\n]}",
        "continued plain line": lambda n: b'{"extra": {"a": 1}\n' + dump(n)[1:-1] + b"}",
        "two records": lambda n: dump(n) + b" " + dump(n + 1),
        "NaN": lambda n: dump(n)[:-1] + b', "extra": NaN}',
        "trailing comma": lambda n: dump(n)[:-1] + b", }",
        "leading space": lambda n: b" " + dump(n),
        "trailing space": lambda n: dump(n) + b" ",
        "array": lambda n: b"[1, 2]",
        "broken": lambda n: dump(n)[:-5],
        "carriage return": lambda n: dump(n) + b"\r",
        "NUL byte": lambda n: dump(n, artist="a\x00b"),
        "invalid UTF-8": lambda n: dump(n)[:-1] + b', "extra": "\xff"}',
        "long line": lambda n: dump(n, song="s" * SHORT_LINE_LIMIT),
        "empty object": lambda n: b"{}",
    }


#: Most lines are ordinary records: a file is often clean, so that DuckDB reads it.
COMMON = ["record", "record", "record", "compact record", "blank", "pretty-printed", "record that looks lenient"]


@st.composite
def day_file(draw: st.DrawFn, day: date) -> tuple[bytes, bool]:
    """A day file, and whether it is clean: ordinary lines only, which DuckDB reads itself."""
    kinds = line_kinds(day)
    names = draw(st.lists(st.sampled_from(COMMON), max_size=10))
    for other in draw(st.lists(st.sampled_from(sorted(set(kinds) - set(COMMON))), max_size=2)):
        names.insert(draw(st.integers(0, len(names))), other)
    lines = [kinds[name](n) for n, name in enumerate(names)]
    # A file written with CR LF line ends is read by DuckDB too, as is one that ends with a CR.
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = newline.join(lines) + draw(st.sampled_from([b"", newline, b"\r"]))
    bom = draw(st.integers(0, 9)) == 0  # a file with a byte-order mark is split in Python
    return (b"\xef\xbb\xbf" if bom else b"") + data, not bom and set(names) <= set(COMMON)


Loaded = tuple[list[FileLoad], dict[str, list[tuple[Any, ...]]]] | str


def load(root: Path, database: Path, days: int) -> Loaded:
    """What loading the days from ``root`` did: the loads and the staging tables, or the error it raised."""
    warehouse = duckdb_warehouse(database, max_reject_percent=100)
    warehouse.create_tables()
    window = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=days - 1))
    try:
        loads = warehouse.load_staging_events(local_source(root), window, lambda message: None)
    except Exception as error:  # the file is not JSON text: both ways must refuse it alike
        return f"{type(error).__name__}: {error}"
    with warehouse.connect() as connection:
        tables = {
            "staging_events": connection.execute("SELECT * FROM staging_events ORDER BY ALL").fetchall(),
            "staging_rejects": connection.execute(
                "SELECT source_key, line_number, raw_text, reason FROM staging_rejects ORDER BY ALL"
            ).fetchall(),
            "staging_files": connection.execute(
                "SELECT source_key, partition_day, records FROM staging_files ORDER BY ALL"
            ).fetchall(),
        }
    return sorted(loads, key=lambda load: load.source_key), tables


@pytest.fixture
def short_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "ENGINE_LINE_BYTES", SHORT_LINE_LIMIT)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_duckdb_reading_the_day_files_loads_what_the_python_split_loads(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, short_lines: None
) -> None:
    days = data.draw(st.integers(1, 3), label="days")
    tmp = tmp_path_factory.mktemp("day-lines")
    clean: list[str] = []
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        path = tmp / "source" / event_key(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        content, is_clean = data.draw(day_file(day), label=str(day))
        path.write_bytes(content)
        clean += [event_key(day)] if is_clean else []

    split_in_python: list[str] = []
    split_day_files = DuckDBWarehouse._split_day_files

    def spy(connection: Any, loader: Any, source: Any, days: Any, keys: list[str]) -> None:
        split_in_python.extend(keys)
        split_day_files(connection, loader, source, days, keys)

    with monkeypatch.context() as patch:
        patch.setattr(DuckDBWarehouse, "_split_day_files", staticmethod(spy))
        read_by_duckdb = load(tmp / "source", tmp / "read.duckdb", days)
    with monkeypatch.context() as patch:
        patch.setattr(engine, "readable_paths", lambda source, days: None)
        split = load(tmp / "source", tmp / "split.duckdb", days)

    assert read_by_duckdb == split
    # DuckDB read the clean files itself: a file of ordinary lines is never split in Python.
    assert not set(clean) & set(split_in_python)


def test_a_file_replaced_between_the_scan_and_duckdbs_read_loads_as_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corrected file written while the run reads it: the scan saw a record of several lines that the new
    version no longer has, and DuckDB reads either version's one-line records, as many in both. The file's
    version tells: it is split again in Python, and what loads is the new version, whole."""
    path = tmp_path / "source" / event_key(FIRST_DAY)
    path.parent.mkdir(parents=True)
    old = [json.dumps(event(FIRST_DAY, n)) for n in range(3)] + [json.dumps(event(FIRST_DAY, 3), indent=2)]
    new = [json.dumps(event(FIRST_DAY, n, artist="Corrected")) for n in range(3)]
    path.write_text("\n".join(old))
    scan_in_slices = day_lines.scan_in_slices

    def replaced_after_the_scan(*args: Any) -> Any:
        scan = scan_in_slices(*args)
        path.write_text("\n".join(new))
        return scan

    monkeypatch.setattr(day_lines, "scan_in_slices", replaced_after_the_scan)
    loaded = load(tmp_path / "source", tmp_path / "w.duckdb", 1)
    assert not isinstance(loaded, str), loaded
    loads, tables = loaded
    assert [row[0] for row in tables["staging_events"]] == ["Corrected"] * 3
    assert [(load.records, load.loaded) for load in loads] == [(3, 3)]
