"""VARCHAR widths on DuckDB (issue 13): DuckDB stores text of any length, Redshift refuses a value longer than
its column, counted in UTF-8 bytes. The DuckDB staging rules reject such a record as Redshift's do, with a
reason naming the field, the column and its width; the other records of the file load."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import boto3
from dagster_aws.s3 import S3Resource

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources import records
from sparkify_assets.sources.layout import event_key
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.duckdb.engine import SQL, DuckDBWarehouse
from sparkify_assets.warehouse.layout import expected_tables
from sparkify_assets_tests.conftest import duckdb_warehouse, local_source, upload_tree

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


#: Song files of every kind a folder may hold (none that fails the load as a whole: test_json_text.py has those).
SONG = {"num_songs": 1, "artist_id": "AR1", "artist_latitude": None, "artist_longitude": -7.5, "artist_location": "",
        "artist_name": "Añil", "song_id": "SO1", "title": "Ten Tonne", "duration": 337.68444, "year": 2005}  # fmt: skip
SONG_FILES = {
    "one_line.json": json.dumps(SONG).encode(),
    "not_ascii.json": json.dumps({**SONG, "song_id": "SO2"}, ensure_ascii=False).encode(),
    "newline_after.json": json.dumps({**SONG, "song_id": "SO3"}).encode() + b"\n",
    "crlf_after.json": json.dumps({**SONG, "song_id": "SO4"}).encode() + b"\r\n \r\n",
    "pretty.json": json.dumps({**SONG, "song_id": "SO5"}, indent=4).encode(),
    "pretty_crlf.json": json.dumps({**SONG, "song_id": "SO6"}, indent=2).replace("\n", "\r\n").encode(),
    "bom.json": b"\xef\xbb\xbf" + json.dumps({**SONG, "song_id": "SO7"}).encode(),
    "blank_lines.json": b"\n \n" + json.dumps({**SONG, "song_id": "SO8"}).encode() + b"\n\n",
    "rejected_on_line_3.json": b"\n \n" + json.dumps({**SONG, "year": "MMV"}).encode() + b"\n\n",
    "two_songs.json": json.dumps({**SONG, "song_id": "SO9"}).encode() + b"\n" + json.dumps(SONG).encode(),
    "two_on_a_line.json": json.dumps(SONG).encode() + b" " + json.dumps(SONG).encode(),
    "trailing_comma.json": json.dumps(SONG).encode()[:-1] + b", }",
    "nan.json": json.dumps({**SONG, "duration": float("nan")}).encode(),
    "too_large.json": json.dumps(SONG).encode().replace(b"337.68444", b"1e999"),
    "bad_json.json": b'{"song_id": "SO10", "title": }',
    "no_song_id.json": json.dumps({"title": "x"}).encode(),
    "wrong_type.json": json.dumps({**SONG, "year": "MMV"}).encode(),
    "invalid_utf8.json": json.dumps({**SONG, "title": "é"}, ensure_ascii=False).encode().replace(b"\xc3", b"\xff"),
    "nul_inside.json": json.dumps({**SONG, "title": "a\0b"}, ensure_ascii=False).encode(),
    "cr_inside.json": json.dumps(SONG).encode().replace(b", ", b",\r "),
    "not_an_object.json": b'"SO11"',
    "empty.json": b"",
    "blank.json": b" \n\t\n",
}


def staged_songs(warehouse: DuckDBWarehouse) -> tuple[list[tuple[object, ...]], ...]:
    """What a song load left: staging_songs, staging_rejects and staging_files (without the load's time)."""
    return (
        warehouse.query("SELECT * FROM staging_songs ORDER BY ALL"),
        warehouse.query("SELECT source_key, line_number, raw_text, reason FROM staging_rejects ORDER BY ALL"),
        warehouse.query("SELECT source_key, partition_day, records FROM staging_files ORDER BY ALL"),
    )


def test_song_files_of_every_kind_load_the_same_from_a_folder_line_by_line_and_from_s3(
    tmp_path: Path, aws_test_env: str
) -> None:
    """Issue 15: a song file that is one object on one line is taken whole, without the line-by-line split;
    the staging tables are the same as when every file is split line by line, and as from the same files on S3
    (read through the S3 resource)."""
    root = tmp_path / "source"
    for name, data in SONG_FILES.items():
        (root / "song_data" / "A" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "song_data" / "A" / name).write_bytes(data)
    taken_whole = [name for name, data in SONG_FILES.items() if records._one_line_object(data) is not None]
    assert 0 < len(taken_whole) < len(SONG_FILES)
    client = boto3.client("s3", region_name="us-west-2", endpoint_url=aws_test_env)
    upload_tree(client, root, "sparkify-songs", "raw")
    s3 = SparkifySource(
        uri="s3://sparkify-songs/raw", s3=S3Resource(region_name="us-west-2", endpoint_url=aws_test_env)
    )

    staged = []
    for name, source, shortcut in [("local", local_source(root), True), ("line_by_line", local_source(root), False),
                                   ("s3", s3, True)]:  # fmt: skip
        warehouse = duckdb_warehouse(tmp_path / f"{name}.duckdb", max_reject_percent=100)
        warehouse.create_tables()
        with patch.object(records, "_one_line_object", records._one_line_object if shortcut else lambda data: None):
            loads = warehouse.load_staging_songs(source, lambda message: None)
        assert sum(load.records for load in loads) == sum(load.loaded + load.rejected for load in loads)
        staged.append(staged_songs(warehouse))
    local, line_by_line, from_s3 = staged
    assert local == line_by_line == from_s3
    songs, rejects, files = local
    assert len(files) == len(SONG_FILES) and songs and rejects
    rejected_files = {key.rsplit("/", 1)[1] for key, *_ in rejects}
    assert {"trailing_comma.json", "nan.json", "too_large.json", "invalid_utf8.json"} <= rejected_files
    assert [line for key, line, *_ in rejects if key.endswith("/rejected_on_line_3.json")] == [3]
