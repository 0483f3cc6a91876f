"""The faults suite's report, and what its tests share: warehouse snapshots, sources made from the real sample,
subprocess runs of the real `dagster` command.

`pytest -m faults` ends with the figures of the issue: kill points tried, fuzz cases tried, valid rows lost
and partial partitions found (the last two must be 0; the tests that count them also assert it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sparkify_assets_tests.conftest import REPO_ROOT
from sparkify_assets_tests.faults.figures import FIGURES, HEADLINE

#: The SPEC.md tables (and the load bookkeeping) a snapshot compares; `loaded_at` differs run to run.
SNAPSHOT_TABLES = (
    "staging_events",
    "staging_songs",
    "staging_rejects",
    "staging_files",
    "songplays",
    "users",
    "songs",
    "artists",
    "time",
)
DAY_BEFORE, DAY = "2018-11-04", "2018-11-05"

Snapshot = dict[str, list[tuple[Any, ...]]]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES and not _ran_faults(terminalreporter):
        return
    terminalreporter.section("faults: figures")
    for name in HEADLINE:
        terminalreporter.write_line(f"{name}: {FIGURES.get(name, 0)}")
    for name in sorted(set(FIGURES) - set(HEADLINE)):
        terminalreporter.write_line(f"{name}: {FIGURES[name]}")


def _ran_faults(terminalreporter: Any) -> bool:
    return any(
        "/faults/" in getattr(report, "nodeid", "").replace("\\", "/")
        for reports in terminalreporter.stats.values()
        for report in reports
        if hasattr(report, "nodeid")
    )


# -- snapshots -------------------------------------------------------------------------------------------
def snapshot(database: Path) -> Snapshot:
    """Every row of every SPEC table, sorted, without load timestamps. Opening the file read-write is what
    the next run does: DuckDB replays (or discards) its write-ahead log first."""
    connection = duckdb.connect(str(database))
    try:
        tables = {name for (name,) in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        found: Snapshot = {}
        for table in SNAPSHOT_TABLES:
            if table not in tables:
                found[table] = []
                continue
            columns = [
                name
                for (name,) in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if name != "loaded_at"
            ]
            rows = connection.execute(f'SELECT {", ".join(columns)} FROM "{table}"').fetchall()
            found[table] = sorted(rows, key=repr)
        return found
    finally:
        connection.close()


def window_counts(database: Path, day: str = DAY) -> dict[str, int]:
    """SPEC.md's figures for one partition: staging events, songplays, time rows, users seen that day."""
    connection = duckdb.connect(str(database))
    try:
        queries = {
            "staging_events": "SELECT COUNT(*) FROM staging_events WHERE partition_day = CAST(? AS DATE)",
            "songplays": "SELECT COUNT(*) FROM songplays WHERE CAST(start_time AS DATE) = CAST(? AS DATE)",
            "time": "SELECT COUNT(*) FROM time WHERE CAST(start_time AS DATE) = CAST(? AS DATE)",
            "users_seen": "SELECT COUNT(DISTINCT user_id) FROM stg_events WHERE partition_day = CAST(? AS DATE) "
            "AND user_id IS NOT NULL",
        }
        return {name: connection.execute(sql, [day]).fetchone()[0] for name, sql in queries.items()}
    finally:
        connection.close()


#: The assets of SPEC.md's tables (with their checks), without the analytics built on them.
SPEC_ASSETS = ["staging_events", "staging_songs", "artists", "songs", "users", "time", "songplays"]
SPEC_SELECTION = ",".join(SPEC_ASSETS)

#: SPEC.md, "Figures on the real sample": partition 2018-11-05 alone.
SPEC_DAY_FIGURES = {"staging_events": 408, "songplays": 356, "time": 356, "users_seen": 29}


# -- sources made from the real sample ------------------------------------------------------------------
def copy_source(real_sample: Path, target: Path, days: tuple[str, ...]) -> Path:
    """A source root holding copies of the real sample's song files and the given days (a link out of the
    source root would be refused: SPEC.md, nothing outside the source root is read)."""
    target.mkdir(parents=True)
    shutil.copytree(real_sample / "song_data", target / "song_data")
    for day in days:
        relative = Path("log_data") / day[:4] / day[5:7] / f"{day}-events.json"
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real_sample / relative, target / relative)
    return target


def earlier_version_of_day(real_sample: Path, target: Path, day: str = DAY) -> None:
    """Replace ``day`` under ``target`` by an earlier, different version: the first half of its lines with
    every level flipped, and a broken line (so rows, users' levels and rejects all differ from the real day)."""
    relative = Path("log_data") / day[:4] / day[5:7] / f"{day}-events.json"
    lines = (real_sample / relative).read_text(encoding="utf-8").splitlines()
    flipped = [
        line.replace('"level":"free"', '"level":"@"')
        .replace('"level":"paid"', '"level":"free"')
        .replace('"level":"@"', '"level":"paid"')
        for line in lines[: len(lines) // 2]
    ]
    path = target / relative
    path.unlink(missing_ok=True)
    path.write_text("\n".join([*flipped[:10], '{"ts": 1541', *flipped[10:]]) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class DayStates:
    """The warehouse before and after reloading 2018-11-05, shared by the crash, fault and environment tests.

    ``before`` holds the earlier version of 2018-11-04..05 (`earlier_version_of_day`); ``after`` is ``before``
    with the current (real) 2018-11-05 reloaded. Tests work on copies (`copy_before`), never on these files.
    """

    earlier_source: Path
    current_source: Path
    before: Path
    after: Path
    before_rows: Snapshot
    after_rows: Snapshot

    def copy_before(self, target: Path) -> Path:
        return copy_warehouse(self.before, target)


@pytest.fixture(scope="session")
def day_states(real_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> DayStates:
    from sparkify_assets_tests.conftest import resources_for, run_graph

    root = tmp_path_factory.mktemp("day-states")
    earlier = copy_source(real_sample, root / "earlier", (DAY_BEFORE, DAY))
    earlier_version_of_day(real_sample, earlier)
    current = copy_source(real_sample, root / "current", (DAY_BEFORE, DAY))
    before, after = root / "before.duckdb", root / "after.duckdb"
    assert run_graph(resources_for(earlier, before), partition_range=(DAY_BEFORE, DAY), selection=SPEC_ASSETS).success
    copy_warehouse(before, after)
    assert run_graph(resources_for(current, after), partition=DAY, selection=SPEC_ASSETS).success
    before_rows, after_rows = snapshot(before), snapshot(after)
    for table in ("staging_events", "staging_rejects", "users", "time", "songplays"):
        assert before_rows[table] != after_rows[table], f"{table}: the earlier version must differ from the current"
    return DayStates(earlier, current, before, after, before_rows, after_rows)


# -- the real command in a subprocess ---------------------------------------------------------------------
def dagster_home(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return folder


def command_env(settings: Mapping[str, str], home: Path) -> dict[str, str]:
    """A subprocess's environment: this one's without SPARKIFY_/REDSHIFT_/DAGSTER_ settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "REDSHIFT_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(dagster_home(home)), "PYTHONDONTWRITEBYTECODE": "1", **settings})
    return env


def materialize_argv(partition: str = DAY, select: str = "*") -> list[str]:
    """`dagster asset materialize` of the graph for one partition, as `make run` does it."""
    return ["asset", "materialize", "-m", "sparkify_assets", "--select", select, "--partition", partition]


def forked_run(
    name: str, folder: Path, settings: Mapping[str, str], point: str = "none", select: str = "*"
) -> dict[str, Any]:
    """One run for `driver.py`: its own DAGSTER_HOME, log and marker under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "name": name,
        "point": point,
        "marker": str(folder / "paused"),
        "log": str(folder / "run.log"),
        "env": {"DAGSTER_HOME": str(dagster_home(folder / "home")), **settings},
        "argv": materialize_argv(select=select),
    }


def start_driver(runs: list[dict[str, Any]], folder: Path) -> subprocess.Popen[str]:
    """Start `driver.py` on ``runs`` in its own process group, so that a SIGKILL can reach every run."""
    plan = folder / "plan.json"
    plan.write_text(json.dumps({"runs": runs}), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "sparkify_assets_tests.faults.driver", str(plan)],
        cwd=REPO_ROOT,
        env=command_env({}, folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def driver_results(driver: subprocess.Popen[str], timeout: float) -> dict[str, dict[str, Any]]:
    """How each run of the driver ended: ``{"exit": code or None, "signal": number or None}`` by name."""
    try:
        output, _ = driver.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)
        output, _ = driver.communicate(timeout=30)
        raise AssertionError(f"the driver's runs did not finish in {timeout} s:\n{output[-2000:]}") from None
    results = {}
    for line in output.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            results[result.pop("name")] = result
    return results


def copy_warehouse(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


@pytest.fixture(autouse=True)
def _no_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SPARKIFY_* / REDSHIFT_* settings must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith(("SPARKIFY_", "REDSHIFT_")) and name not in {
            "SPARKIFY_SAMPLE_DIR",
            "SPARKIFY_REQUIRE_SAMPLE",
        }:
            monkeypatch.delenv(name)
