"""The commands as users run them: `dagster asset materialize` and `sparkify` in a subprocess, settings
from the environment, the instance settings of `make` (dagster.yaml)."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from sparkify_assets_tests.conftest import REPO_ROOT, duckdb_warehouse
from sparkify_assets_tests.oracle import expected_warehouse
from sparkify_cli.main import SUBCOMMANDS, main

DAGSTER = Path(sys.executable).with_name("dagster")
#: What the Makefile sets for `dagster asset materialize` (Dagster 1.13 says `dg launch` supersedes it).
NO_SUPERSEDED_WARNING = "ignore:Function `asset_materialize_command` is superseded"


def materialize(args: list[str], source: Path, database: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`dagster asset materialize` as `make run` runs it: the instance has the repository's dagster.yaml."""
    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "SPARKIFY_SOURCE": str(source),
        "SPARKIFY_DUCKDB_PATH": str(database),
        "DAGSTER_HOME": str(home),
        "PYTHONWARNINGS": NO_SUPERSEDED_WARNING,
    }
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return subprocess.run(
        [str(DAGSTER), "asset", "materialize", "-m", "sparkify_assets.definitions", *args],
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
    # Quiet: a line per step at INFO, with rows and seconds; no Dagster DEBUG event, no warning.
    step_line = r" - INFO - .* - songplays - songplays 2018-11-01\.\.\.2018-11-03: [\d,]+ rows in [\d.]+ s"
    assert re.search(step_line, done.stderr), done.stderr[-3000:]
    assert " - DEBUG - " not in done.stderr and "Warning" not in done.stderr, done.stderr[-3000:]

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
            "sparkify_cli.main",
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


HELP_PROBE = """
import sys
from sparkify_cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert not exit.code, exit.code
print(" ".join(["LOADED", *sorted(m for m in sys.modules if m.split(".")[0].startswith("dagster"))]), file=sys.stderr)
"""


@pytest.mark.parametrize("command", [[], *([name] for name in SUBCOMMANDS)], ids=lambda c: " ".join(c) or "sparkify")
def test_help_imports_no_dagster(command: list[str]) -> None:
    """`sparkify --help` and every `sparkify <command> --help` answer without importing Dagster (seconds)."""
    done = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, *command, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(f"usage: sparkify {' '.join(command)}".rstrip())
    (loaded,) = [line for line in done.stderr.splitlines() if line.startswith("LOADED")]
    assert loaded == "LOADED", f"`sparkify {' '.join(command)} --help` imported {loaded[7:]}"


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = re.findall(r"^    (\w+) ", capsys.readouterr().out, flags=re.MULTILINE)
    assert listed == list(SUBCOMMANDS) == ["sample", "days", "summary", "sql", "infra"]


def test_the_package_exposes_defs_lazily_for_dagster_m_sparkify_assets() -> None:
    """`-m sparkify_assets` still finds the code location (Dagster lists the module's members)."""
    from dagster import Definitions

    import sparkify_assets
    from sparkify_assets.definitions import defs

    assert [name for name, value in inspect.getmembers(sparkify_assets) if isinstance(value, Definitions)] == ["defs"]
    assert sparkify_assets.defs is defs


def test_sql_plans_the_day_its_first_line_names(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """Without --partition, `sparkify sql` plans the newest partition, names it, and every day in the SQL is it
    (or the day after it, the window's exclusive end)."""
    from sparkify_assets.partitions import daily_partitions

    monkeypatch.delenv("SPARKIFY_WAREHOUSE", raising=False)
    assert main(["sql", "--engine", "duckdb"]) == 0
    out = capsys.readouterr().out
    day = daily_partitions.get_last_partition_key()
    assert out.splitlines()[0] == f"-- sparkify sql --engine duckdb --partition {day}"
    next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    # Constants that are not days of data: the epoch, and users.sql's "all of the user's events" (0001-01-01).
    assert set(re.findall(r"DATE '([\d-]+)'", out)) - {"1970-01-01", "0001-01-01"} == {day, next_day}
