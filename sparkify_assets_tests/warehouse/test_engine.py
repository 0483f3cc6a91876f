"""The tables, functions and views every step needs are made ready once a run (warehouse/engine.py,
create_tables): the tables created and their layout checked, and the views created only when missing or
older than the code. Replacing them on every step would lock them against readers on Redshift (issue 13);
after an upgrade that changed a view, the warehouse still gets the new view, and any single step run first on
a new warehouse finds every view it reads."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sparkify_assets.warehouse.duckdb.recording import RecordingDuckDBWarehouse
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets_tests.conftest import duckdb_warehouse, month_range, resources_for, run_graph

VIEWS = ("stg_events", "stg_plays", "stg_song_choice", "stg_songs")
#: stg_plays as the project created it before issue 13 (songplay_id from DATE - DATE), shortened: an older
#: view text that an upgrade must replace.
OLD_STG_PLAYS = """
CREATE OR REPLACE VIEW stg_plays AS
SELECT partition_day, CAST(partition_day - DATE '1970-01-01' AS BIGINT) * 1000000000 AS songplay_id, start_time,
    user_id, level, NULL AS song_id, NULL AS artist_id, session_id, location, user_agent
FROM stg_events WHERE page = 'NextSong'
"""


def view_sql(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return dict(connection.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())


def run_recorded(sample: Path, database: Path, selection: list[str] | None = None) -> StatementLog:
    log = StatementLog()
    resources = resources_for(sample, database)
    resources["warehouse"] = RecordingDuckDBWarehouse(path=str(database), recorder=log)
    partition = None if selection == ["staging_songs"] else month_range(sample)[0]  # the one step not daily
    assert run_graph(resources, partition=partition, selection=selection).success
    return log


def created_views(log: StatementLog) -> list[str]:
    return [sql.split()[4] for sql in log.sql if sql.startswith("CREATE OR REPLACE VIEW")]


def test_the_first_run_creates_the_views_once_and_a_daily_run_not_at_all(
    generated_sample: Path, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    first = run_recorded(generated_sample, database)
    assert sorted(created_views(first)) == sorted(VIEWS)  # once each, in one step
    assert len({s.step for s in first.statements if s.sql.startswith("CREATE OR REPLACE VIEW")}) == 1

    daily = run_recorded(generated_sample, database)
    assert created_views(daily) == []
    assert not [sql for sql in daily.sql if sql.startswith(("CREATE OR REPLACE MACRO", "DELETE FROM view_definitions"))]
    assert sorted(view_sql(database)) == sorted(VIEWS)


@pytest.mark.parametrize("step", ["staging_songs", "users", "daily_artist_plays"])
def test_any_single_step_run_first_on_a_new_warehouse_finds_every_view(
    step: str, generated_sample: Path, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    log = run_recorded(generated_sample, database, selection=[step])
    assert sorted(created_views(log)) == sorted(VIEWS)
    assert sorted(view_sql(database)) == sorted(VIEWS)


def older_warehouse(database: Path, change: str) -> None:
    """A warehouse the current code created, then put back as an older version of the project left it:
    stg_plays in its old text, and ``change``: no view_definitions table (the project before it kept one), or
    the SHA-256 of other view SQL in it."""
    warehouse = duckdb_warehouse(database)
    warehouse.create_tables()
    with duckdb.connect(str(database)) as connection:
        connection.execute(OLD_STG_PLAYS)
        if change == "no view_definitions":
            connection.execute("DROP TABLE view_definitions")
        else:
            connection.execute("UPDATE view_definitions SET definitions_sha256 = 'the sha256 of older view sql'")
    assert "f_days_since_epoch" not in view_sql(database)["stg_plays"]  # the old text (DuckDB rewrites it)


@pytest.mark.parametrize("change", ["no view_definitions", "other view sql"])
def test_an_upgrade_that_changed_a_view_replaces_it_on_the_next_run(
    change: str, generated_sample: Path, tmp_path: Path
) -> None:
    database = tmp_path / "older.duckdb"
    older_warehouse(database, change)

    log = run_recorded(generated_sample, database, selection=["staging_events"])

    assert sorted(created_views(log)) == sorted(VIEWS)
    assert "f_days_since_epoch(partition_day)" in view_sql(database)["stg_plays"]
    warehouse = duckdb_warehouse(database)
    assert warehouse.query("SELECT definitions_sha256 FROM view_definitions") == [(warehouse.views_sha256(),)]


def test_a_missing_view_is_created_again_though_the_recorded_sql_is_current(
    generated_sample: Path, tmp_path: Path
) -> None:
    """A table dropped with CASCADE (as the layout error suggests) takes its views with it on Redshift."""
    database = tmp_path / "w.duckdb"
    duckdb_warehouse(database).create_tables()
    with duckdb.connect(str(database)) as connection:
        connection.execute("DROP VIEW stg_song_choice")

    log = run_recorded(generated_sample, database, selection=["staging_songs"])

    assert sorted(created_views(log)) == sorted(VIEWS)
    assert sorted(view_sql(database)) == sorted(VIEWS)
