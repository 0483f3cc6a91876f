"""Every check passes on good data and fails on data corrupted to break it, on the day it was broken."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlglot

from sparkify_assets.checks.definitions import CHECKS, CHECKS_BY_NAME, PARTITIONED_ASSETS, SQL, evaluate, evaluate_days
from sparkify_assets.partitions import DayWindow
from sparkify_assets.warehouse.sql import Identifier, render, statements
from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph
from sparkify_assets_tests.query_profile import operators

DAY = "2018-11-21"

#: For each check, SQL that breaks exactly what it guards.
CORRUPTIONS = {
    "staging_events_records_reconciled": "DELETE FROM staging_events WHERE ts = (SELECT MIN(ts) FROM staging_events)",
    "staging_songs_records_reconciled": "DELETE FROM staging_songs "
    "WHERE song_id = (SELECT MIN(song_id) FROM staging_songs)",
    "songplays_row_count": "INSERT INTO songplays SELECT songplay_id + 1, start_time, user_id, level, song_id, "
    "artist_id, session_id, location, user_agent FROM songplays ORDER BY songplay_id DESC LIMIT 1",
    "users_row_count": "DELETE FROM users WHERE user_id = (SELECT MIN(user_id) FROM users)",
    "songs_row_count": "DELETE FROM songs WHERE song_id = (SELECT MIN(song_id) FROM songs)",
    "artists_row_count": "INSERT INTO artists SELECT 'ARNEW', name, location, latitude, longitude FROM artists LIMIT 1",
    "time_row_count": "DELETE FROM time WHERE start_time = (SELECT MAX(start_time) FROM time)",
    "songplays_name_their_song": "UPDATE songplays SET artist_id = 'ARNEW' "
    "WHERE songplay_id = (SELECT MIN(songplay_id) FROM songplays WHERE song_id IS NOT NULL)",
    "songplays_user_id_orphans": "DELETE FROM users WHERE user_id = (SELECT MAX(user_id) FROM songplays)",
    "songplays_start_time_orphans": "DELETE FROM time WHERE start_time = (SELECT MAX(start_time) FROM songplays)",
    "songplays_song_id_orphans": "DELETE FROM songs WHERE song_id = (SELECT MIN(song_id) FROM songplays)",
    "songplays_artist_id_orphans": "DELETE FROM artists WHERE artist_id = (SELECT MIN(artist_id) FROM songplays)",
    "songs_artist_id_orphans": "DELETE FROM artists WHERE artist_id = (SELECT MIN(artist_id) FROM songs)",
    "users_user_id_unique": "INSERT INTO users SELECT * FROM users LIMIT 1",
    "songs_song_id_unique": "INSERT INTO songs SELECT * FROM songs LIMIT 1",
    "artists_artist_id_unique": "INSERT INTO artists SELECT * FROM artists LIMIT 1",
    "time_start_time_unique": "INSERT INTO time SELECT * FROM time LIMIT 1",
    "songplays_songplay_id_unique": "INSERT INTO songplays SELECT * FROM songplays LIMIT 1",
}


def test_every_check_has_a_corruption() -> None:
    assert set(CORRUPTIONS) == set(CHECKS_BY_NAME)


def test_orphan_and_uniqueness_checks_are_blocking() -> None:
    for spec in CHECKS:
        referential = spec.name.endswith(("_orphans", "_unique")) or spec.name == "songplays_name_their_song"
        assert spec.blocking == referential, spec.name


@pytest.fixture(scope="module")
def good_warehouse(generated_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("checks") / "good.duckdb"
    run_graph(resources_for(generated_sample, database), partition=DAY)
    return database


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_check_passes_on_good_data_and_fails_on_corrupted(name: str, good_warehouse: Path, tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    database.write_bytes(good_warehouse.read_bytes())
    warehouse = duckdb_warehouse(database)
    spec, window = CHECKS_BY_NAME[name], DayWindow.parse(DAY)
    assert evaluate(spec, warehouse, window)[0] == 0
    with warehouse.connect() as connection:
        changed = connection.execute(CORRUPTIONS[name]).fetchall()[0][0]
    assert changed == 1, f"the corruption for {name} changed {changed} rows"
    violations, detail = evaluate(spec, warehouse, window)
    assert violations > 0
    assert detail


def test_deleted_user_fails_the_run_through_a_blocking_check(generated_sample: Path, tmp_path: Path) -> None:
    """The acceptance scenario: a user is deleted, then songplays for a day is re-materialized."""
    database = tmp_path / "w.duckdb"
    resources = resources_for(generated_sample, database)
    run_graph(resources, partition=DAY)
    warehouse = duckdb_warehouse(database)
    (user,) = warehouse.query("SELECT MIN(user_id) FROM songplays")[0]
    with warehouse.connect() as connection:
        connection.execute("DELETE FROM users WHERE user_id = ?", [user])
    result = run_graph(resources, partition=DAY, selection="songplays", raise_on_error=False)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["songplays_user_id_orphans"]
    assert failed[0].metadata["detail"].value == f"e.g. {user}"


#: One event of DAY now names a user no other day names and no users row holds.
_NEW_USER_ON_DAY = (
    "UPDATE staging_events SET user_id = '999999' WHERE ts = "
    f"(SELECT MIN(ts) FROM staging_events WHERE partition_day = DATE '{DAY}' AND user_id <> '')"
)
#: The first songplay of DAY.
_FIRST_PLAY_OF_DAY = f"(SELECT MIN(songplay_id) FROM songplays WHERE CAST(start_time AS DATE) = DATE '{DAY}')"

#: For each check of a daily asset, SQL that breaks it on DAY only (of a three-day warehouse).
DAY_CORRUPTIONS: dict[str, list[str]] = {
    "staging_events_records_reconciled": [
        f"DELETE FROM staging_events WHERE ts = (SELECT MIN(ts) FROM staging_events WHERE partition_day = DATE '{DAY}')"
    ],
    "songplays_row_count": [f"DELETE FROM songplays WHERE songplay_id = {_FIRST_PLAY_OF_DAY}"],
    "users_row_count": [_NEW_USER_ON_DAY],
    "time_row_count": [
        f"DELETE FROM time WHERE start_time = (SELECT MAX(start_time) FROM time "
        f"WHERE CAST(start_time AS DATE) = DATE '{DAY}')"
    ],
    "songplays_user_id_orphans": [f"UPDATE songplays SET user_id = 999999 WHERE songplay_id = {_FIRST_PLAY_OF_DAY}"],
    "songplays_start_time_orphans": [
        "DELETE FROM time WHERE start_time = "
        f"(SELECT start_time FROM songplays WHERE songplay_id = {_FIRST_PLAY_OF_DAY})"
    ],
    "songplays_song_id_orphans": [
        f"UPDATE songplays SET song_id = 'SONOSUCH' WHERE songplay_id = {_FIRST_PLAY_OF_DAY}"
    ],
    "songplays_artist_id_orphans": [
        f"UPDATE songplays SET artist_id = 'ARNOSUCH' WHERE songplay_id = {_FIRST_PLAY_OF_DAY}"
    ],
    "users_user_id_unique": [
        _NEW_USER_ON_DAY,
        "INSERT INTO users SELECT * REPLACE (999999 AS user_id) FROM users LIMIT 2",
    ],
    "time_start_time_unique": [
        "INSERT INTO time SELECT * FROM time WHERE start_time = "
        f"(SELECT MIN(start_time) FROM time WHERE CAST(start_time AS DATE) = DATE '{DAY}')"
    ],
    "songplays_songplay_id_unique": [
        f"INSERT INTO songplays SELECT * FROM songplays WHERE songplay_id = {_FIRST_PLAY_OF_DAY}"
    ],
}
THREE_DAYS = DayWindow(date(2018, 11, 20), date(2018, 11, 22))


def test_every_check_of_a_daily_asset_has_a_day_corruption() -> None:
    assert set(DAY_CORRUPTIONS) == {spec.name for spec in CHECKS if spec.asset in PARTITIONED_ASSETS}


@pytest.fixture(scope="module")
def three_days(generated_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("checks") / "three-days.duckdb"
    window = (THREE_DAYS.start_day.isoformat(), THREE_DAYS.end_day.isoformat())
    run_graph(resources_for(generated_sample, database), partition_range=window)
    return database


@pytest.mark.parametrize("name", sorted(DAY_CORRUPTIONS))
def test_a_daily_check_fails_on_the_broken_day_only(name: str, three_days: Path, tmp_path: Path) -> None:
    """One query per check gives each day its own result: the day that was broken fails, the others pass."""
    database = tmp_path / "w.duckdb"
    database.write_bytes(three_days.read_bytes())
    warehouse = duckdb_warehouse(database)
    spec = CHECKS_BY_NAME[name]
    assert {outcome[0] for outcome in evaluate_days(spec, warehouse, THREE_DAYS).values()} == {0}
    with warehouse.connect() as connection:
        for statement in DAY_CORRUPTIONS[name]:
            assert connection.execute(statement).fetchall()[0][0] >= 1, f"{statement} changed nothing"
    days = evaluate_days(spec, warehouse, THREE_DAYS)
    assert sorted(days) == THREE_DAYS.days
    failing = {day.isoformat() for day, (violations, _) in days.items() if violations}
    assert failing == {DAY}
    assert days[date.fromisoformat(DAY)][1]


@pytest.mark.parametrize("spec", CHECKS, ids=lambda spec: spec.name)
def test_check_sql_parses_as_redshift(spec) -> None:
    """The checks' SQL is engine-neutral: every statement also parses in sqlglot's Redshift dialect."""
    params = {name: Identifier(value) for name, value in spec.identifiers.items()} | THREE_DAYS.sql_params
    text = (SQL / spec.sql_file).read_text(encoding="utf-8")
    for statement in statements(text, params):
        sqlglot.parse_one(statement, read="redshift")
    assert "::" not in render(text, params)


#: The uniqueness checks of daily tables (duplicate_keys_in_window.sql).
_WINDOWED_UNIQUE = ("time_start_time_unique", "songplays_songplay_id_unique")


@pytest.mark.parametrize("name", _WINDOWED_UNIQUE)
def test_a_uniqueness_check_over_every_day_of_its_table_reads_the_table_once(name: str, three_days: Path) -> None:
    """When the window holds every row of the table (a full build's checks), there is no other day to search
    for the window's keys: duplicate_keys_in_window.sql reads each row of the table once, not twice."""
    spec = CHECKS_BY_NAME[name]
    params = {key: Identifier(value) for key, value in spec.identifiers.items()} | THREE_DAYS.sql_params
    (statement,) = statements((SQL / spec.sql_file).read_text(encoding="utf-8"), params)
    with duckdb_warehouse(three_days).connect(read_only=True) as connection:
        (rows,) = connection.execute(f"SELECT COUNT(*) FROM {spec.asset}").fetchone()
        read = sum(
            op.rows for op in operators(connection, statement) if op.type == "TABLE_SCAN" and op.table == spec.asset
        )
    assert rows > 0
    assert read == rows


def test_a_songplay_id_repeated_on_another_day_fails_each_day_that_has_it(three_days: Path, tmp_path: Path) -> None:
    """A key of the window repeated on a row outside it fails the window's day: a check of one day searches the
    other days for that day's keys, and the check of the other day finds the same pair."""
    database = tmp_path / "w.duckdb"
    database.write_bytes(three_days.read_bytes())
    warehouse = duckdb_warehouse(database)
    spec = CHECKS_BY_NAME["songplays_songplay_id_unique"]
    other_day = THREE_DAYS.start_day
    with warehouse.connect() as connection:
        connection.execute(
            "INSERT INTO songplays SELECT * REPLACE (start_time - INTERVAL 1 DAY AS start_time) FROM songplays "
            f"WHERE songplay_id = {_FIRST_PLAY_OF_DAY}"
        )
    assert (
        warehouse.query(
            f"SELECT COUNT(*) FROM songplays WHERE CAST(start_time AS DATE) = DATE '{other_day}' "
            f"AND songplay_id = {_FIRST_PLAY_OF_DAY}"
        )[0][0]
        == 1
    )
    for day in (date.fromisoformat(DAY), other_day):
        days = evaluate_days(spec, warehouse, DayWindow(day, day))
        assert days[day][0] == 1, day
    days = evaluate_days(spec, warehouse, THREE_DAYS)
    assert {day for day, (violations, _) in days.items() if violations} == {date.fromisoformat(DAY), other_day}
