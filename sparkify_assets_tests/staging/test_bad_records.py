"""SPEC.md, "Bad records": rejects are kept with a reason, valid records of the same file all load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dagster import Failure

from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph

GOOD = {
    "artist": "Nirvana",
    "auth": "Logged In",
    "firstName": "Aleena",
    "gender": "F",
    "itemInSession": 0,
    "lastName": "Kirby",
    "length": 214.77832,
    "level": "paid",
    "location": "Waterloo-Cedar Falls, IA",
    "method": "PUT",
    "page": "NextSong",
    "registration": 1541022995796.0,
    "sessionId": 237,
    "song": "Serve The Servants",
    "status": 200,
    "ts": 1541381242796,
    "userAgent": "Mozilla/5.0",
    "userId": "44",
}


def event(**changes: object) -> dict:
    return {**GOOD, **changes}


def write_source(root: Path, day_lines: dict[str, str]) -> Path:
    (root / "song_data" / "A" / "B" / "C").mkdir(parents=True)
    song = {
        "num_songs": 1,
        "artist_id": "AR1",
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": "",
        "artist_name": "Nirvana",
        "song_id": "SO1",
        "title": "Serve The Servants",
        "duration": 215.0,
        "year": 0,
    }
    (root / "song_data" / "A" / "B" / "C" / "TRABC1.json").write_text(json.dumps(song, indent=4))
    for day, text in day_lines.items():
        folder = root / "log_data" / day[:4] / day[5:7]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day}-events.json").write_text(text)
    return root


def rejects(database: Path) -> list[tuple]:
    return duckdb_warehouse(database).query(
        "SELECT source_key, line_number, reason, raw_text FROM staging_rejects ORDER BY line_number"
    )


def test_malformed_lines_are_rejected_with_line_and_reason_and_valid_ones_load(tmp_path: Path) -> None:
    lines = [
        json.dumps(event(ts=1541381242796)),
        "",  # blank line: not a record
        '{"artist": "Truncated", "ts": 15413',  # not valid JSON
        json.dumps(event(ts=1541381300000), indent=2),  # multi-line object, lines 4..
        json.dumps(event(ts="1541381242796")),  # ts of the wrong type
        json.dumps({k: v for k, v in event().items() if k != "ts"}),  # ts missing
        json.dumps(event(userId="abc", ts=1541381400000)),  # userId not an integer
        json.dumps(event(userId="", page="Home", ts=1541381500000)),  # logged out: valid
        "[1, 2]",  # not an object
    ]
    text = "\n".join(lines) + "\n"
    source = write_source(tmp_path / "src", {"2018-11-05": text})
    database = tmp_path / "w.duckdb"
    # Five of eight records are bad here, more than the default share that fails a file as broken.
    resources = resources_for(source, database, max_reject_percent=100)
    result = run_graph(resources, partition="2018-11-05", selection="staging_events")
    warehouse = duckdb_warehouse(database)
    multi_line_end = 4 + len(json.dumps(event(), indent=2).splitlines())
    assert warehouse.query("SELECT ts FROM staging_events ORDER BY ts") == [
        (1541381242796,),
        (1541381300000,),
        (1541381500000,),
    ]
    reasons = {line: reason for _, line, reason, _ in rejects(database)}
    assert sorted(reasons) == [3, multi_line_end, multi_line_end + 1, multi_line_end + 2, multi_line_end + 4]
    assert reasons[3].startswith("not valid JSON")
    assert "ts must be an integer" in reasons[multi_line_end]
    assert reasons[multi_line_end + 1] == "missing required field ts"
    assert "userId must be an integer" in reasons[multi_line_end + 2]
    assert reasons[multi_line_end + 4].startswith("not a JSON object")
    assert {key for key, *_ in rejects(database)} == {"log_data/2018/11/2018-11-05-events.json"}
    assert rejects(database)[0][3] == '{"artist": "Truncated", "ts": 15413'
    metadata = result.asset_materializations_for_node("staging_events")[0].metadata
    assert metadata["rows_loaded"].value == 3
    assert metadata["rows_rejected"].value == 5
    assert result.get_asset_check_evaluations()[0].passed  # records reconcile: 3 + 5 = 8 records


def test_reloading_a_partition_replaces_its_rejects(tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"2018-11-05": "{broken\n" + json.dumps(event()) + "\n"})
    database = tmp_path / "w.duckdb"
    for _ in range(2):
        run_graph(resources_for(source, database), partition="2018-11-05", selection="staging_events")
    assert len(rejects(database)) == 1
    assert duckdb_warehouse(database).query("SELECT COUNT(*) FROM staging_events") == [(1,)]


def test_empty_file_is_an_empty_partition(tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"2018-11-05": ""})
    database = tmp_path / "w.duckdb"
    result = run_graph(resources_for(source, database), partition="2018-11-05")
    assert result.success
    warehouse = duckdb_warehouse(database)
    assert warehouse.query("SELECT COUNT(*) FROM staging_events") == [(0,)]
    assert warehouse.query("SELECT COUNT(*) FROM songplays") == [(0,)]


def test_missing_day_file_fails_naming_the_key(tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"2018-11-05": json.dumps(event()) + "\n"})
    database = tmp_path / "w.duckdb"
    with pytest.raises(Failure) as failure:
        run_graph(resources_for(source, database), partition="2018-11-06", selection="staging_events")
    assert f"missing source file: {source}/log_data/2018/11/2018-11-06-events.json" in str(failure.value)


def test_pretty_printed_song_file_loads(tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"2018-11-05": json.dumps(event()) + "\n"})
    database = tmp_path / "w.duckdb"
    run_graph(resources_for(source, database), partition="2018-11-05")
    warehouse = duckdb_warehouse(database)
    assert warehouse.query("SELECT song_id, year FROM songs") == [("SO1", None)]
    assert warehouse.query("SELECT song_id, artist_id FROM songplays") == [("SO1", "AR1")]
