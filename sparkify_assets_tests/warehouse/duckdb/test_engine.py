"""VARCHAR widths on DuckDB (issue 13): DuckDB stores text of any length, Redshift refuses a value longer than
its column, counted in UTF-8 bytes. The DuckDB staging rules reject such a record as Redshift's do, with a
reason naming the field, the column and its width; the other records of the file load."""

from __future__ import annotations

import json
from pathlib import Path

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import event_key
from sparkify_assets.warehouse.duckdb.engine import SQL
from sparkify_assets.warehouse.layout import expected_tables
from sparkify_assets_tests.conftest import duckdb_warehouse, local_source

DAY = "2018-11-05"


def width(table: str, column: str) -> int:
    """A column's width as create_tables.sql declares it (the one place the widths are written)."""
    (found,) = [
        c.width
        for t in expected_tables(SQL / "create_tables.sql")
        if t.name == table
        for c in t.columns
        if c.name == column
    ]
    assert found is not None
    return found


def test_a_value_longer_than_its_column_in_bytes_is_rejected_naming_column_and_width(
    real_sample: Path, tmp_path: Path
) -> None:
    """The real day file, plus a play whose artist name has as many characters as its column has bytes but
    twice as many bytes (é is two bytes in UTF-8), and one exactly as many bytes as the column: the first is
    rejected, the second loads, as every record of the real file does."""
    artist_width, title_width = width("staging_events", "artist"), width("staging_songs", "title")
    real_day = (real_sample / event_key(DayWindow.parse(DAY).start_day)).read_text(encoding="utf-8")
    real_records = [line for line in real_day.splitlines() if line.strip()]
    play = json.loads(real_records[0])
    too_long = {**play, "artist": "é" * artist_width}  # artist_width characters, 2 * artist_width bytes
    just_fits = {**play, "artist": "é" * (artist_width // 2), "itemInSession": 999}

    root = tmp_path / "source"
    day_file = root / event_key(DayWindow.parse(DAY).start_day)
    day_file.parent.mkdir(parents=True)
    day_file.write_text(
        "\n".join([*real_records, json.dumps(too_long, ensure_ascii=False), json.dumps(just_fits, ensure_ascii=False)]),
        encoding="utf-8",
    )
    song_file = next((real_sample / "song_data").rglob("*.json"))
    song = json.loads(song_file.read_text(encoding="utf-8"))
    (root / "song_data" / "A").mkdir(parents=True)
    (root / "song_data" / "A" / "fits.json").write_text(json.dumps(song), encoding="utf-8")
    long_title = {**song, "song_id": "SOLONGTITLE", "title": "ü" * (title_width // 2 + 1)}
    (root / "song_data" / "A" / "long.json").write_text(json.dumps(long_title, ensure_ascii=False), encoding="utf-8")

    warehouse = duckdb_warehouse(tmp_path / "w.duckdb")
    warehouse.create_tables()
    source = local_source(root)
    (events,) = warehouse.load_staging_events(source, DayWindow.parse(DAY), lambda message: None)
    songs = warehouse.load_staging_songs(source, lambda message: None)

    assert (events.records, events.loaded, events.rejected) == (len(real_records) + 2, len(real_records) + 1, 1)
    assert warehouse.query("SELECT line_number, reason FROM staging_rejects WHERE source_key LIKE 'log_data/%'") == [
        (
            len(real_records) + 1,
            f"artist is {2 * artist_width} bytes long, longer than staging_events.artist VARCHAR({artist_width})",
        )
    ]
    (longest,) = warehouse.query("SELECT MAX(strlen(artist)) FROM staging_events")[0]
    assert longest == artist_width
    assert sum(load.loaded for load in songs) == 1
    title_bytes = len(long_title["title"].encode("utf-8"))
    assert warehouse.query("SELECT reason FROM staging_rejects WHERE source_key LIKE 'song_data/%'") == [
        (f"title is {title_bytes} bytes long, longer than staging_songs.title VARCHAR({title_width})",)
    ]
