"""SPEC.md's published figures on the real Udacity sample (all 30 partitions, then 2018-11-05 alone)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sparkify_assets.checks.definitions import CHECKS, PARTITIONED_ASSETS
from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph


@pytest.fixture(scope="module")
def real_warehouse(real_sample: Path, tmp_path_factory: pytest.TempPathFactory):
    database = tmp_path_factory.mktemp("real") / "warehouse.duckdb"
    result = run_graph(resources_for(real_sample, database), partition_range=("2018-11-01", "2018-11-30"))
    assert result.success
    return duckdb_warehouse(database), result


def count(warehouse, sql: str) -> int:
    return warehouse.query(sql)[0][0]


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        ("staging_events", 8056),
        ("staging_songs", 71),
        ("songplays", 6820),
        ("users", 97),
        ("songs", 71),
        ("artists", 69),
        ("time", 6813),
    ],
)
def test_table_rows_match_spec(real_warehouse, table: str, rows: int) -> None:
    warehouse, _ = real_warehouse
    assert count(warehouse, f"SELECT COUNT(*) FROM {table}") == rows


def test_the_one_matched_play_is_specs(real_warehouse) -> None:
    warehouse, _ = real_warehouse
    rows = warehouse.query(
        "SELECT start_time, user_id, song_id, artist_id, session_id FROM songplays WHERE song_id IS NOT NULL"
    )
    assert rows == [(datetime(2018, 11, 21, 21, 56, 47, 796000), 15, "SOZCTXZ12AB0182364", "AR5KOSW1187FB35FF4", 818)]


def test_user_levels_match_spec(real_warehouse) -> None:
    warehouse, _ = real_warehouse
    assert dict(warehouse.query("SELECT level, COUNT(*) FROM users GROUP BY level")) == {"paid": 22, "free": 75}
    assert dict(warehouse.query("SELECT user_id, level FROM users WHERE user_id IN (15, 49, 80)")) == {
        15: "paid",
        49: "paid",
        80: "paid",
    }


def test_unknown_years_are_null(real_warehouse) -> None:
    warehouse, _ = real_warehouse
    assert count(warehouse, "SELECT COUNT(*) FROM songs WHERE year IS NULL") == 43
    assert count(warehouse, "SELECT COUNT(*) FROM songs WHERE year = 0") == 0


def test_every_check_passed_on_every_partition(real_warehouse) -> None:
    """One result per check of a daily asset and day; one per check of an unpartitioned asset (and the same
    result on each partition Dagster planned it for, see checks/definitions.py)."""
    _, result = real_warehouse
    evaluations = result.get_asset_check_evaluations()
    assert [e.check_name for e in evaluations if not e.passed] == []
    days = [f"2018-11-{day:02}" for day in range(1, 31)]
    for spec in CHECKS:
        partitions = sorted((e.partition or "") for e in evaluations if e.check_name == spec.name)
        expected = days if spec.asset in PARTITIONED_ASSETS else ["", *days]
        assert partitions == expected, spec.name


def test_partition_2018_11_05_alone(real_sample: Path, warehouse_path: Path) -> None:
    """SPEC.md: 408 staging events, 356 songplays, 356 time rows, 29 users seen that day."""
    run_graph(resources_for(real_sample, warehouse_path), partition="2018-11-05")
    warehouse = duckdb_warehouse(warehouse_path)
    assert count(warehouse, "SELECT COUNT(*) FROM staging_events") == 408
    assert count(warehouse, "SELECT COUNT(*) FROM songplays") == 356
    assert count(warehouse, "SELECT COUNT(*) FROM time") == 356
    assert count(warehouse, "SELECT COUNT(*) FROM users") == 29
