"""A run whose process died is failed, and says so (run_workers.py).

- The check of a run's recorded process (what `LocalRunLauncher` answers run monitoring): a live process is
  RUNNING; a process killed with SIGKILL, before and after its parent reaps it, or a later process that got
  its pid, is FAILED with a reason naming it; a run of another host or pid namespace, or not recorded, is
  never failed.
- Plain command-line use, no daemon: `dagster asset materialize` is killed with SIGKILL while it runs (its
  day file a named pipe nobody writes, so it waits reading); the next `dagster asset materialize` runs,
  marks the dead run failed and prints a warning naming it.

The daemon's path (run monitoring fails the dead run, the queued run starts) is in deploy/test_production.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.events import DagsterEventType
from dagster._core.launcher import WorkerStatus
from dagster._core.test_utils import instance_for_test

from sparkify_assets.run_workers import RUN_WORKER_TAG, LocalRunLauncher, RunWorker, fail_dead_runs
from sparkify_assets_tests.conftest import REPO_ROOT
from sparkify_sample.generator import generate_sample

DAGSTER = Path(sys.executable).with_name("dagster")
NO_SUPERSEDED_WARNING = "ignore:Function `asset_materialize_command` is superseded"


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:
        yield instance


def started_run(instance: DagsterInstance, worker: RunWorker | None) -> DagsterRun:
    tags = {RUN_WORKER_TAG: worker.tag()} if worker else {}
    return instance.add_run(
        DagsterRun(job_name="__ASSET_JOB", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED, tags=tags)
    )


def worker_of(process: subprocess.Popen) -> RunWorker:
    """The worker record a run in ``process`` would have written."""
    from sparkify_assets.run_workers import _process_start

    return RunWorker(socket.gethostname(), process.pid, _process_start(process.pid), RunWorker.current().pid_namespace)


def health(instance: DagsterInstance, run: DagsterRun) -> tuple[WorkerStatus, str | None]:
    launcher = LocalRunLauncher()
    launcher.register_instance(instance)
    result = launcher.check_run_worker_health(run)
    return result.status, result.msg


def test_a_live_process_runs_a_killed_one_is_failed_named(instance: DagsterInstance) -> None:
    process = subprocess.Popen(["sleep", "60"])
    try:
        run = started_run(instance, worker_of(process))
        assert health(instance, run) == (WorkerStatus.RUNNING, None)
        os.kill(process.pid, signal.SIGKILL)
        time.sleep(0.2)  # a zombie now: killed, its parent (this test) has not reaped it
        status, message = health(instance, run)
        assert status == WorkerStatus.FAILED and f"pid {process.pid} on {socket.gethostname()}" in message
        process.wait()
        assert health(instance, run)[0] == WorkerStatus.FAILED
    finally:
        process.kill()
        process.wait()


def test_a_later_process_with_the_same_pid_is_not_the_run(instance: DagsterInstance) -> None:
    me = RunWorker.current()
    reused = RunWorker(me.host, me.pid, f"{me.start}-an-earlier-process", me.pid_namespace)
    assert health(instance, started_run(instance, reused))[0] == WorkerStatus.FAILED
    assert health(instance, started_run(instance, me))[0] == WorkerStatus.RUNNING


def test_a_run_of_another_host_or_pid_namespace_or_not_recorded_is_never_failed(instance: DagsterInstance) -> None:
    process = subprocess.Popen(["true"])
    process.wait()
    here = RunWorker.current()
    gone_elsewhere = RunWorker(f"not-{here.host}", process.pid, None, here.pid_namespace)
    assert health(instance, started_run(instance, gone_elsewhere))[0] == WorkerStatus.RUNNING
    # A container with this host's name and pids of its own (`docker run --network host`): not ours to judge.
    in_a_container = RunWorker(here.host, process.pid, None, "pid:[1]")
    assert health(instance, started_run(instance, in_a_container))[0] == WorkerStatus.RUNNING
    assert health(instance, started_run(instance, None))[0] == WorkerStatus.RUNNING


def test_fail_dead_runs_fails_only_the_dead_and_says_why(instance: DagsterInstance) -> None:
    process = subprocess.Popen(["true"])
    worker = worker_of(process)
    process.wait()
    dead, alive, unknown = (
        started_run(instance, worker),
        started_run(instance, RunWorker.current()),
        started_run(instance, None),
    )
    failed = fail_dead_runs(instance, by="the test")
    assert [run.run_id for run, _ in failed] == [dead.run_id]
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    assert {instance.get_run_by_id(run.run_id).status for run in (alive, unknown)} == {DagsterRunStatus.STARTED}
    (failure,) = [e for e in instance.all_logs(dead.run_id) if e.dagster_event and e.dagster_event.is_run_failure]
    assert failure.dagster_event.message.startswith("Marked failed by the test: the run's process (pid ")
    assert f"pid {process.pid} on {socket.gethostname()}) died" in failure.dagster_event.message
    assert fail_dead_runs(instance, by="the test") == []  # once


def wait_for_a_step(instance: DagsterInstance, deadline: float, log: Path) -> DagsterRun:
    """The STARTED run, once it runs a step (its executor has started: the run's process is recorded)."""
    while True:
        for run in instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED])):
            if instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START):
                return run
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


@pytest.mark.slow
def test_a_killed_cli_run_is_failed_by_the_next_cli_run_which_says_so(tmp_path: Path) -> None:
    sample, home = tmp_path / "sample", tmp_path / "dagster_home"
    generate_sample(sample, songs=20, days=2, events_per_day=40, seed=3)
    stuck = next(sample.rglob("2018-11-02-events.json"))
    stuck.unlink()
    os.mkfifo(stuck)  # the run of 2018-11-02 waits reading it until it is killed
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SPARKIFY_SOURCE": str(sample),
        "SPARKIFY_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "SPARKIFY_PARTITIONS_START": "2018-11-01",
        "SPARKIFY_PARTITIONS_END": "2018-11-02",
        "PYTHONWARNINGS": NO_SUPERSEDED_WARNING,
    }
    command = [str(DAGSTER), "asset", "materialize", "-m", "sparkify_assets.definitions", "--select", "*"]
    # The instance's storage is created here, before the run starts: two processes creating one SQLite storage
    # at once race on its schema ("table alembic_version already exists").
    with DagsterInstance.from_config(str(home)) as instance:
        with (tmp_path / "killed.log").open("wb") as log:
            killed = subprocess.Popen([*command, "--partition", "2018-11-02"], env=env, stdout=log, stderr=log)
        try:
            dead = wait_for_a_step(instance, time.monotonic() + 90, tmp_path / "killed.log")
            os.kill(killed.pid, signal.SIGKILL)
            killed.wait()
            assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.STARTED  # nothing else notices

            done = subprocess.run(
                [*command, "--partition", "2018-11-01"], env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr[-3000:]
            (warning,) = [line for line in done.stderr.splitlines() if "was still STARTED" in line]
            assert " - WARNING - " in warning and dead.run_id in warning and f"pid {killed.pid}" in warning
            assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        finally:
            if killed.poll() is None:
                killed.kill()
                killed.wait()
