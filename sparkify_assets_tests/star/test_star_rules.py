"""SPEC.md's rules on data the project has not seen: a generated month with every quirk and bad lines.

Expected figures come from `oracle.py`, an independent pure-Python reading of SPEC.md.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from sparkify_assets.partitions import DayWindow
from sparkify_assets.star.assets import PLAY_DAYS
from sparkify_assets.star.assets import SQL as STAR_SQL
from sparkify_assets.warehouse.duckdb import memory
from sparkify_assets.warehouse.engine import read_values
from sparkify_assets.warehouse.sql import read_sql, statements
from sparkify_assets_tests.conftest import duckdb_warehouse, month_range, resources_for, run_graph
from sparkify_assets_tests.oracle import expected_warehouse
from sparkify_assets_tests.query_profile import operators

SNAPSHOT = {
    "songplays": "SELECT * FROM songplays ORDER BY songplay_id",
    "users": "SELECT * FROM users ORDER BY user_id",
    "time": "SELECT * FROM time ORDER BY start_time",
    "staging_events": "SELECT * FROM staging_events ORDER BY source_key, ts, session_id, item_in_session",
}


@pytest.fixture(scope="module")
def month(generated_sample: Path, tmp_path_factory: pytest.TempPathFactory):
    database = tmp_path_factory.mktemp("month") / "warehouse.duckdb"
    result = run_graph(resources_for(generated_sample, database), partition_range=month_range(generated_sample))
    assert result.success
    return duckdb_warehouse(database), expected_warehouse(generated_sample), result


def test_row_counts_follow_the_rules(month) -> None:
    warehouse, expected, _ = month
    counts = {
        table: warehouse.query(f"SELECT COUNT(*) FROM {table}")[0][0]
        for table in (
            "staging_events",
            "staging_songs",
            "staging_rejects",
            "songplays",
            "users",
            "songs",
            "artists",
            "time",
        )
    }
    assert counts == {
        "staging_events": expected.staging_events,
        "staging_songs": expected.staging_songs,
        "staging_rejects": expected.rejects,
        "songplays": expected.songplays,
        "users": len(expected.users),
        "songs": expected.songs,
        "artists": expected.artists,
        "time": expected.time,
    }
    assert expected.rejects > 0, "the generated sample should contain bad lines"


def test_song_match_trims_ignores_case_and_takes_the_closest_duration(month) -> None:
    warehouse, expected, _ = month
    rows = warehouse.query("SELECT epoch_ms(start_time), user_id, song_id FROM songplays WHERE song_id IS NOT NULL")
    assert Counter(rows) == expected.matched_plays
    assert sum(expected.matched_plays.values()) > 0


def test_users_keep_their_latest_level(month) -> None:
    warehouse, expected, _ = month
    assert dict(warehouse.query("SELECT user_id, level FROM users")) == expected.users


def test_unknown_year_is_null(month) -> None:
    warehouse, expected, _ = month
    assert warehouse.query("SELECT COUNT(*) FROM songs WHERE year IS NULL")[0][0] == expected.songs_unknown_year


def test_time_columns_follow_redshift_conventions(month) -> None:
    """week is the ISO week; weekday 0 = Sunday .. 6 = Saturday."""
    warehouse, _, _ = month
    rows = warehouse.query("SELECT start_time, hour, day, week, month, year, weekday FROM time")
    for start, hour, day, week, month_, year, weekday in rows:
        assert (hour, day, month_, year) == (start.hour, start.day, start.month, start.year)
        assert week == start.isocalendar().week
        assert weekday == start.isoweekday() % 7


def test_every_check_passes_on_good_data(month) -> None:
    _, _, result = month
    assert [e.check_name for e in result.get_asset_check_evaluations() if not e.passed] == []


def test_rerunning_a_partition_changes_no_row_and_no_id(generated_sample: Path, tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    resources = resources_for(generated_sample, database)
    run_graph(resources, partition_range=month_range(generated_sample))
    warehouse = duckdb_warehouse(database)
    before = {name: warehouse.query(sql) for name, sql in SNAPSHOT.items()}
    day = month_range(generated_sample)[0]
    run_graph(resources, partition=day)
    assert {name: warehouse.query(sql) for name, sql in SNAPSHOT.items()} == before


def test_out_of_order_backfill_keeps_each_users_latest_level(generated_sample: Path, tmp_path: Path) -> None:
    first, last = month_range(generated_sample)
    database = tmp_path / "w.duckdb"
    resources = resources_for(generated_sample, database)
    run_graph(resources, partition=last)
    run_graph(resources, partition=first)
    expected = expected_warehouse(generated_sample, days=[first, last])
    assert dict(duckdb_warehouse(database).query("SELECT user_id, level FROM users")) == expected.users
    changed = [
        user
        for user, level in expected_warehouse(generated_sample, days=[first]).users.items()
        if expected.users.get(user) != level
    ]
    assert changed, "the sample should have a user whose level changed between the first and the last day"


def test_users_ranks_only_the_events_at_each_users_latest_ts(month, generated_sample: Path) -> None:
    """users.sql sorts only the events that can be a user's latest, those at the user's latest ts, not every
    event of the window (a month of them in a full build): the same rows (the tests above) for less work."""
    warehouse, _, _ = month
    window = DayWindow(*(date.fromisoformat(day) for day in month_range(generated_sample)))
    ((at_latest, of_users),) = warehouse.query(
        """
        WITH window_events AS (
            SELECT user_id, ts FROM stg_events
            WHERE partition_day BETWEEN :start_day AND :end_day AND user_id IS NOT NULL
        ), latest AS (
            SELECT user_id, MAX(ts) AS ts FROM window_events GROUP BY user_id
        )
        SELECT
            (SELECT COUNT(*) FROM window_events AS e JOIN latest ON latest.user_id = e.user_id AND latest.ts = e.ts),
            (SELECT COUNT(*) FROM window_events)
        """,
        window.sql_params,
    )
    assert at_latest < of_users
    with warehouse.connect() as connection:
        connection.begin()
        ranked = [
            operator.rows
            for statement in statements(read_sql(STAR_SQL / "users.sql"), window.sql_params)
            for operator in operators(connection, statement)
            if operator.type == "WINDOW"
        ]
        connection.rollback()
    assert ranked == [at_latest]


def test_the_catalogues_rematch_reads_the_staged_events_of_the_built_days_only(month) -> None:
    """song_catalogue.sql re-matches the plays songplays holds from the staged events of their days only
    (`PLAY_DAYS`, read in its transaction): a first build, whose songplays is still empty, reads none."""
    warehouse, _, _ = month

    def staged_rows_read(days_built: int) -> int:
        """Rows the re-match reads from staging_events when songplays holds its first ``days_built`` days."""
        with warehouse.connect() as connection:
            connection.begin()
            connection.execute(
                "DELETE FROM songplays WHERE CAST(start_time AS DATE) NOT IN "
                "(SELECT DISTINCT CAST(start_time AS DATE) FROM songplays ORDER BY 1 LIMIT ?)",
                [days_built],
            )
            script = statements(read_sql(STAR_SQL / "song_catalogue.sql"), read_values(connection, PLAY_DAYS))
            (rematch,) = [statement for statement in script if "FROM stg_plays AS matched" in statement]
            scanned = [op.rows for op in operators(connection, rematch) if op.table == "staging_events"]
            connection.rollback()
        return sum(scanned)

    assert staged_rows_read(0) == 0 < staged_rows_read(1) < staged_rows_read(366)


def test_songplays_built_a_few_days_at_a_time_equal_songplays_built_at_once(
    month, generated_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window whose events do not fit one statement's memory is built in slices of days, one statement each
    (`DuckDBWarehouse.statement_windows`): the same plays, ids and matches as the month's one statement."""
    warehouse, _, _ = month
    window = DayWindow(*(date.fromisoformat(day) for day in month_range(generated_sample)))
    (busiest,) = warehouse.query("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM staging_events GROUP BY partition_day)")
    # About two days' events per statement.
    monkeypatch.setattr(memory, "EVENT_SORT_BYTES", memory.size_bytes(warehouse.memory_limit) // (2 * busiest[0]))
    database = tmp_path / "sliced.duckdb"
    shutil.copy(warehouse.path, database)
    sliced = duckdb_warehouse(database)
    slices = sliced.statement_windows(window)
    assert len(window.days) / 3 < len(slices) < len(window.days)
    with sliced.connect() as connection:  # every play of the window goes: the rebuild must put them all back
        connection.execute("UPDATE songplays SET songplay_id = -songplay_id, song_id = NULL, artist_id = NULL")

    result = run_graph(
        resources_for(generated_sample, database),
        partition_range=month_range(generated_sample),
        selection=["songplays"],
    )

    assert result.success
    assert sliced.query(SNAPSHOT["songplays"]) == warehouse.query(SNAPSHOT["songplays"])


def test_songplays_alone_over_days_on_a_new_warehouse_builds_no_play(generated_sample: Path, tmp_path: Path) -> None:
    """The step weighs the window's days by their staged events before building (`statement_windows`): on a new
    warehouse, where songplays is the first asset materialized, it creates the tables first."""
    database = tmp_path / "new.duckdb"
    first, _ = month_range(generated_sample)
    second = (date.fromisoformat(first) + timedelta(days=1)).isoformat()
    result = run_graph(
        resources_for(generated_sample, database), partition_range=(first, second), selection=["songplays"]
    )
    assert result.success
    assert duckdb_warehouse(database).query("SELECT COUNT(*) FROM songplays") == [(0,)]
