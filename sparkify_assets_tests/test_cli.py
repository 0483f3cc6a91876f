"""`dagster asset materialize` as users run it: a subprocess, settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sparkify_assets_tests.conftest import duckdb_warehouse
from sparkify_assets_tests.oracle import expected_warehouse

DAGSTER = Path(sys.executable).with_name("dagster")


def materialize(args: list[str], source: Path, database: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SPARKIFY_SOURCE": str(source),
        "SPARKIFY_DUCKDB_PATH": str(database),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run(
        [str(DAGSTER), "asset", "materialize", "-m", "sparkify_assets", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_materialize_a_range_then_fail_a_blocking_check(generated_sample: Path, tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    done = materialize(
        ["--select", "*", "--partition-range", "2018-11-01...2018-11-03"], generated_sample, database, tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    warehouse = duckdb_warehouse(database)
    expected = expected_warehouse(generated_sample, days=["2018-11-01", "2018-11-02", "2018-11-03"])
    assert warehouse.query("SELECT COUNT(*) FROM songplays")[0][0] == expected.songplays
    assert "RUN_SUCCESS" in done.stderr

    (user,) = warehouse.query("SELECT MIN(user_id) FROM songplays WHERE start_time < DATE '2018-11-03'")[0]
    with warehouse.connect() as connection:
        connection.execute("DELETE FROM users WHERE user_id = ?", [user])
    failed = materialize(["--select", "songplays", "--partition", "2018-11-02"], generated_sample, database, tmp_path)
    assert failed.returncode != 0
    assert "songplays_user_id_orphans" in failed.stderr


def test_sparkify_sample_command_writes_a_source_tree(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sparkify_assets.cli",
            "sample",
            "--out",
            str(out),
            "--days",
            "2",
            "--songs",
            "10",
            "--events-per-day",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(list((out / "log_data").rglob("*-events.json"))) == 2
    assert len(list((out / "song_data").rglob("*.json"))) == 10
