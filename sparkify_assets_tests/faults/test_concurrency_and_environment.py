"""Concurrency and environment: two runs of one partition at once, a warehouse folder that is read-only or
full, a source that is not there. Each either works or fails with a message naming the setting at fault;
none leaves a duplicate row or half a partition.

Two runs at once on DuckDB fail clearly rather than wait: the DuckDB resource holds the file for the whole
run (`warehouse/duckdb/engine.py`, `setup_for_execution`), so the second run stops at resource setup with
WarehouseUnavailable ("it is open in another process"). Runs launched by the Dagster daemon (schedule,
sensor, UI) queue instead (`dagster.yaml`: one run at a time).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import build_resources

from sparkify_assets.partitions import DayWindow
from sparkify_assets.resources import source_resource
from sparkify_assets.sources.errors import SourceError
from sparkify_assets.warehouse.duckdb.settings import WarehouseUnavailable
from sparkify_assets_tests.conftest import duckdb_warehouse, local_source, run_graph
from sparkify_assets_tests.faults.conftest import (
    DAY,
    SPEC_DAY_FIGURES,
    SPEC_SELECTION,
    DayStates,
    driver_results,
    forked_run,
    snapshot,
    start_driver,
    window_counts,
)
from sparkify_assets_tests.faults.figures import add

pytestmark = pytest.mark.faults

OPEN_ELSEWHERE = "it is open in another process (a DuckDB file has one writer at a time)"
DUPLICATES = {
    "songplays": "SELECT COUNT(*) - COUNT(DISTINCT songplay_id) FROM songplays",
    "time": "SELECT COUNT(*) - COUNT(DISTINCT start_time) FROM time",
    "users": "SELECT COUNT(*) - COUNT(DISTINCT user_id) FROM users",
    "staging_events": "SELECT COUNT(*) - COUNT(DISTINCT (ts, session_id, item_in_session)) FROM staging_events",
}


# -- two runs at once -------------------------------------------------------------------------------------
def test_two_runs_of_the_same_partition_at_once_never_duplicate_rows(day_states: DayStates, tmp_path: Path) -> None:
    """Two `dagster asset materialize` of the same day started together (a scheduled run and a manual one)."""
    database = day_states.copy_before(tmp_path / "w.duckdb")
    settings = {"SPARKIFY_SOURCE": str(day_states.current_source), "SPARKIFY_DUCKDB_PATH": str(database)}
    runs = [forked_run(name, tmp_path / name, settings, select=SPEC_SELECTION) for name in ("scheduled", "manual")]
    results = driver_results(start_driver(runs, tmp_path), timeout=180)
    outcomes = {}
    for run in runs:
        log = Path(run["log"]).read_text(errors="replace")
        exit_code = results[run["name"]]["exit"]
        assert exit_code in (0, 1), f"{run['name']} ended with {results[run['name']]}:\n{log[-2000:]}"
        if exit_code:
            assert OPEN_ELSEWHERE in log and "SPARKIFY_DUCKDB_PATH" in log, log[-3000:]
        outcomes[run["name"]] = "succeeded" if exit_code == 0 else "refused"
    add("concurrent runs that succeeded", list(outcomes.values()).count("succeeded"))
    add("concurrent runs refused clearly", list(outcomes.values()).count("refused"))
    assert "succeeded" in outcomes.values()
    warehouse = duckdb_warehouse(database)
    assert {table: warehouse.query(sql)[0][0] for table, sql in DUPLICATES.items()} == dict.fromkeys(DUPLICATES, 0)
    assert window_counts(database) == SPEC_DAY_FIGURES


def test_a_warehouse_open_in_another_process_is_refused_naming_the_setting(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
         "time.sleep(60)", str(database)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseUnavailable) as refused:
            duckdb_warehouse(database).create_tables()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert str(refused.value) == f"cannot open the warehouse {database} (SPARKIFY_DUCKDB_PATH): {OPEN_ELSEWHERE}"


# -- the warehouse's disk ---------------------------------------------------------------------------------
@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` made read-only: by its mode, or for root (whom modes do not stop) by a read-only bind mount."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    mounted = folder.parent / f"{folder.name}-ro"
    mounted.mkdir()
    commands = [["mount", "--bind", str(folder), str(mounted)], ["mount", "-o", "remount,bind,ro", str(mounted)]]
    for command in commands:
        if subprocess.run(command, capture_output=True).returncode != 0:
            subprocess.run(["umount", str(mounted)], capture_output=True)
            pytest.skip("running as root without the right to mount: no way to make a folder read-only for root")
    try:
        yield mounted
    finally:
        subprocess.run(["umount", str(mounted)], capture_output=True, check=True)


def test_a_read_only_warehouse_folder_gives_a_clear_error(day_states: DayStates, tmp_path: Path) -> None:
    folder = tmp_path / "warehouse"
    existing = day_states.copy_before(folder / "w.duckdb")
    before = snapshot(existing)
    with read_only(folder) as locked:
        for path in (locked / "w.duckdb", locked / "new.duckdb", locked / "sub" / "w.duckdb"):
            warehouse = duckdb_warehouse(path)
            with pytest.raises(WarehouseUnavailable) as refused:
                warehouse.create_tables()
                warehouse.load_staging_events(local_source(day_states.current_source), DayWindow.parse(DAY), print)
            message = str(refused.value)
            assert "(SPARKIFY_DUCKDB_PATH)" in message and str(path.parent) in message, message
            add("environment faults refused clearly")
    assert snapshot(existing) == before


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """A disk with room for ``limit`` bytes a file, for this process (RLIMIT_FSIZE; SIGXFSZ ignored, so a
    write past it fails with EFBIG, as a full disk fails with ENOSPC)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def test_a_full_disk_fails_the_load_clearly_and_keeps_the_earlier_state(day_states: DayStates, tmp_path: Path) -> None:
    database = day_states.copy_before(tmp_path / "w.duckdb")
    before = snapshot(database)
    warehouse = duckdb_warehouse(database)
    source = local_source(day_states.current_source)
    with file_size_limit(64 * 1024), pytest.raises(WarehouseUnavailable) as refused:
        warehouse.load_staging_events(source, DayWindow.parse(DAY), lambda message: None)
    message = str(refused.value)
    assert message.startswith(f"cannot write the warehouse {database} (SPARKIFY_DUCKDB_PATH): ") and "large" in message
    add("environment faults refused clearly")
    state = snapshot(database)
    partial = [table for table in state if state[table] != before[table]]
    add("partial partitions found", len(partial))
    assert not partial
    # With room again, the same load completes.
    warehouse.load_staging_events(source, DayWindow.parse(DAY), lambda message: None)
    assert window_counts(database)["staging_events"] == SPEC_DAY_FIGURES["staging_events"]


# -- the source ---------------------------------------------------------------------------------------------
def failures(result: Any) -> str:
    return "\n".join(
        e.event_specific_data.error.to_string() for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )


def resolved_source() -> Any:
    """The deployment's source resource with its settings resolved, as a run sees it."""
    with build_resources({"source": source_resource()}) as resources:
        return resources.source


def test_a_missing_local_source_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-source"
    monkeypatch.setenv("SPARKIFY_SOURCE", str(missing))
    resources = {"source": source_resource(), "warehouse": duckdb_warehouse(tmp_path / "w.duckdb")}
    result = run_graph(resources, partition=DAY, selection=["staging_events"], raise_on_error=False)
    assert not result.success
    assert f"missing source file: {missing}/log_data/2018/11/{DAY}-events.json" in failures(result)
    assert "STEP_UP_FOR_RETRY" not in {e.event_type_value for e in result.all_events}  # not worth retrying
    with pytest.raises(SourceError, match=re.escape(f"SPARKIFY_SOURCE={str(missing)!r} is not a directory")):
        resolved_source().song_keys()
    add("environment faults refused clearly")


def test_a_missing_bucket_gives_a_clear_error(aws_test_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKIFY_SOURCE", "s3://sparkify-no-such-bucket/udacity")
    monkeypatch.setenv("SPARKIFY_S3_MAX_ATTEMPTS", "1")
    source = resolved_source()
    with pytest.raises(SourceError) as listing:
        source.song_keys()
    assert "cannot list s3://sparkify-no-such-bucket/udacity/song_data/" in str(listing.value)
    assert "NoSuchBucket" in str(listing.value)
    with pytest.raises(SourceError) as reading:
        source.read(f"log_data/2018/11/{DAY}-events.json")
    assert f"s3://sparkify-no-such-bucket/udacity/log_data/2018/11/{DAY}-events.json" in str(reading.value)
    add("environment faults refused clearly")
