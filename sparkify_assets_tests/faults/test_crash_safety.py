"""SPEC.md, "Partitions": re-materializing a partition is all of it or none of it, even when the process dies.

DuckDB: the real `dagster asset materialize` of 2018-11-05 runs in a subprocess over a warehouse that holds
an earlier version of that day, and is SIGKILLed at fixed points (`hooks.KILL_POINTS`): during staging,
between staging and the star tables, during the users upsert. Each table must then hold exactly its
earlier rows or exactly its new ones (a table whose transaction had not committed: its earlier ones),
compared with snapshots; a re-run gives SPEC.md's figures for the day.

Redshift: the statements the engine sends (the recording connection of `warehouse/redshift/recording.py`)
show every DELETE and INSERT of a partition between one BEGIN and its COMMIT; a session that dies at any
statement boundary leaves, by the server's rules, whole transactions only.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import materialize
from dagster_aws.s3 import S3Resource

from sparkify_assets.definitions import ALL_ASSETS
from sparkify_assets_tests.conftest import resources_for, run_graph
from sparkify_assets_tests.faults.conftest import (
    DAY,
    DAY_BEFORE,
    SPEC_ASSETS,
    SPEC_DAY_FIGURES,
    DayStates,
    driver_results,
    forked_run,
    snapshot,
    start_driver,
    window_counts,
)
from sparkify_assets_tests.faults.figures import add
from sparkify_assets_tests.faults.hooks import KILL_POINTS
from sparkify_assets_tests.oracle import expected_warehouse

pytestmark = pytest.mark.faults

STAGING_TABLES = ("staging_events", "staging_rejects", "staging_files")
#: The tables whose transaction each point interrupts (or precedes): they must hold their earlier rows.
INTERRUPTED = {
    "staging-cleared": STAGING_TABLES,
    "staging-loaded": STAGING_TABLES,
    "between-staging-and-star": ("users", "time", "songplays"),
    "users-upsert": ("users", "songplays"),
}
#: Tables a point comes after the commit of: they must hold their new rows.
COMMITTED = {
    "staging-cleared": (),
    "staging-loaded": (),
    "between-staging-and-star": STAGING_TABLES,
    "users-upsert": STAGING_TABLES,
}
MARKER_TIMEOUT_SECONDS = 150


@dataclass(frozen=True)
class Crashes:
    states: DayStates
    killed: dict[str, Path]  # point -> the warehouse file the killed run left


@pytest.fixture(scope="module")
def crashes(day_states: DayStates, tmp_path_factory: pytest.TempPathFactory) -> Crashes:
    """From the earlier version of 2018-11-04..05, a run of the current 2018-11-05 killed at every point.

    The killed runs go in parallel, one warehouse copy each.
    """
    root = tmp_path_factory.mktemp("crash")
    runs, killed = [], {}
    for point in KILL_POINTS:
        killed[point] = day_states.copy_before(root / point / "warehouse.duckdb")
        settings = {"SPARKIFY_SOURCE": str(day_states.current_source), "SPARKIFY_DUCKDB_PATH": str(killed[point])}
        runs.append(forked_run(point, root / point, settings, point=point))
    driver = start_driver(runs, root)
    deadline = time.monotonic() + MARKER_TIMEOUT_SECONDS
    try:
        for run in runs:
            marker = Path(run["marker"])
            while not marker.exists() and driver.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if not marker.exists():
                tail = Path(run["log"]).read_text(errors="replace")[-3000:]
                pytest.fail(f"the run never reached kill point {run['point']}:\n{tail}")
            _, pid = marker.read_text().split()
            os.kill(int(pid), signal.SIGKILL)
    except BaseException:
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and every run still paused
        driver.wait(timeout=30)
        raise
    results = driver_results(driver, timeout=60)
    for point in KILL_POINTS:
        assert results[point]["signal"] == signal.SIGKILL, f"{point}: {results[point]}"
    add("kills that left a write-ahead log to recover", sum(Path(f"{path}.wal").exists() for path in killed.values()))
    return Crashes(day_states, killed)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_run_leaves_whole_tables_and_a_rerun_gives_specs_figures(crashes: Crashes, point: str) -> None:
    add("kill points tried")
    before, after = crashes.states.before_rows, crashes.states.after_rows

    state = snapshot(crashes.killed[point])
    partial = sorted(table for table, rows in state.items() if rows not in (before[table], after[table]))
    add("partial partitions found", len(partial))
    assert not partial, f"killed at {point}: {partial} hold neither the earlier rows nor the new ones"
    for table in INTERRUPTED[point]:
        assert state[table] == before[table], f"killed at {point}: {table} lost its earlier rows"
    for table in COMMITTED[point]:
        assert state[table] == after[table], f"killed at {point}: {table} lost a committed load"

    # The re-run (its checks ran with the uninterrupted run that made `after`).
    resources = resources_for(crashes.states.current_source, crashes.killed[point])
    assert materialize(ALL_ASSETS, resources=resources, partition_key=DAY, selection=SPEC_ASSETS).success
    assert snapshot(crashes.killed[point]) == after
    assert window_counts(crashes.killed[point]) == SPEC_DAY_FIGURES
    expected = expected_warehouse(crashes.states.current_source, days=[DAY_BEFORE, DAY])
    assert len(after["users"]) == len(expected.users)
    assert {row[0]: row[4] for row in after["users"]} == expected.users  # users: user_id .. level


# -- Redshift: the transaction shape ----------------------------------------------------------------------
#: Tables a partition load replaces, and the statements that write them.
PARTITION_TABLES = ("staging_events", "staging_rejects", "staging_files", "songplays", "time", "users")
_WRITES = ("DELETE FROM", "INSERT INTO", "UPDATE", "COPY", "TRUNCATE")


def _written_table(statement: str) -> str | None:
    words = statement.split()
    for verb in _WRITES:
        parts = verb.split()
        if [w.upper() for w in words[: len(parts)]] == parts and len(words) > len(parts):
            return words[len(parts)].strip('"').split("(")[0].split(".")[-1].strip('"').lower()
    return None


def test_redshift_wraps_each_partition_replacement_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    recording = pytest.importorskip("sparkify_assets.warehouse.redshift.recording")
    from sparkify_assets.warehouse.recording import StatementLog
    from sparkify_cli.sql_plan import PlannedSource

    log = StatementLog()
    warehouse = recording.RecordingRedshiftWarehouse(
        iam_role_arn="arn:aws:iam::123456789012:role/sparkify", recorder=log
    )
    source = PlannedSource(uri="s3://sparkify-faults/udacity", s3=S3Resource(region_name="us-west-2"))
    assert run_graph({"warehouse": warehouse, "source": source}, partition=DAY, selection=SPEC_ASSETS).success
    sent = [" ".join(statement.split()) for statement in log.sql]

    # Every write to a partitioned table happens between BEGIN and COMMIT; per transaction, a table that is
    # cleared is refilled in the same transaction.
    open_since: int | None = None
    written: dict[str, set[str]] = {}
    transactions: list[dict[str, set[str]]] = []
    for index, statement in enumerate(sent):
        word = statement.split(None, 1)[0].upper()
        if word == "BEGIN":
            assert open_since is None, f"statement {index}: BEGIN inside a transaction"
            open_since, written = index, {}
        elif word in {"COMMIT", "END"}:
            assert open_since is not None, f"statement {index}: COMMIT outside a transaction"
            transactions.append(written)
            open_since = None
        else:
            table = _written_table(statement)
            assert not statement.upper().startswith("TRUNCATE"), "TRUNCATE commits a Redshift transaction half-way"
            if table in PARTITION_TABLES:
                assert open_since is not None, (
                    f"statement {index} writes {table} outside a transaction: {statement[:120]}"
                )
                written.setdefault(table, set()).add(statement.split(None, 1)[0].upper())
    assert open_since is None, "the run ended inside a transaction"
    replaced = [t for t in transactions if any(t.get(table) for table in PARTITION_TABLES)]
    for table in ("staging_events", "songplays", "time", "users"):
        touching = [t for t in replaced if table in t]
        assert touching, f"no transaction writes {table}"
        for tx in touching:
            # songplays is also written by the song catalogue's transaction, which only re-matches its plays.
            rematch = table == "songplays" and tx[table] == {"UPDATE"}
            replaced_whole = tx[table] == {"DELETE", "INSERT"}
            assert rematch or replaced_whole, f"{table}: a transaction that does not both clear and refill it"

    # A session that dies after statement k keeps only the transactions whose COMMIT came before k: for every
    # k, each table is then either untouched by this run or wholly replaced (the song catalogue's re-match of
    # songplays, an UPDATE, is a whole transaction of its own).
    cut_points = 0
    for cut in range(len(sent) + 1):
        committed: dict[str, set[str]] = {}
        pending: dict[str, set[str]] = {}
        for statement in sent[:cut]:
            word = statement.split(None, 1)[0].upper()
            if word == "BEGIN":
                pending = {}
            elif word in {"COMMIT", "END"}:
                for table, verbs in pending.items():
                    committed.setdefault(table, set()).update(verbs)
                pending = {}
            elif (table := _written_table(statement)) in PARTITION_TABLES:
                pending.setdefault(table, set()).add(word)
        half = [
            table
            for table, verbs in committed.items()
            if verbs - {"UPDATE"} not in ({"DELETE", "INSERT"}, set()) and table != "staging_rejects"
        ]
        add("partial partitions found", len(half))
        assert not half, f"a session killed after statement {cut} leaves {half} half replaced"
        cut_points += 1
    add("redshift kill points (statement boundaries) checked", cut_points)
