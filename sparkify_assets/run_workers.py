"""Runs whose process died: where each run executes, and failing the runs whose process is gone.

A run's end (SUCCESS, FAILURE) is written by its own process. A process killed outright (`kill -9`, the
OOM killer, a machine that stops) writes nothing, so its run stays STARTED for good, and with
`max_concurrent_runs: 1` every later run waits in the queue behind it. Dagster's run monitoring (a daemon,
https://docs.dagster.io/deployment/execution/run-monitoring) fails such a run only when the run launcher
can check the run's worker (`supports_check_run_worker_health`): `DefaultRunLauncher` cannot, and a
`dagster asset materialize` run has no launcher at all. (A run that a code server started is failed by
that code server when its worker dies, as long as the code server itself lives.) So:

- every run records its worker (host, pid, the process's start) in the run tag `sparkify/run_worker`, from
  the executor (`in_process_executor` below, Dagster's own with that one step added);
- `LocalRunLauncher` (`run_launcher` in dagster.yaml) is `DefaultRunLauncher` able to check that worker:
  run monitoring then fails a dead run within its poll interval, whatever launched it (UI, schedule,
  sensor, `dagster asset materialize`);
- without a daemon, each run as it starts fails the runs of this host whose worker is gone, and logs a
  warning naming them (`fail_dead_runs`).

Only a worker of this host and pid namespace can be checked (a pid means nothing elsewhere): a run recorded
on another host or in a container with pids of its own, or not recorded yet, counts as running.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter, executor

# Dagster's own in-process executor, its configuration and its creation: internal names (dagster is pinned
# to 1.13 in pyproject.toml; sparkify_assets_tests/test_run_workers.py runs them through the real CLI).
from dagster._core.definitions.executor_definition import IN_PROC_CONFIG, _core_in_process_executor_creation
from dagster._core.events import DagsterEvent
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.executor.in_process import InProcessExecutor
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

#: The run tag naming the process that executes a run (JSON: host, pid, start, pid_namespace).
RUN_WORKER_TAG = "sparkify/run_worker"

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class RunWorker:
    """The process that executes a run. ``start`` tells it from a later process given the same pid (Linux:
    the boot's id and the process's start time in clock ticks since boot); ``pid_namespace`` tells a container
    that shares the host's name but not its pids (`docker run --network host`). Both None without /proc."""

    host: str
    pid: int
    start: str | None
    pid_namespace: str | None = None

    @classmethod
    def current(cls) -> RunWorker:
        return cls(socket.gethostname(), os.getpid(), _process_start(os.getpid()), _pid_namespace())

    @classmethod
    def of(cls, run: DagsterRun) -> RunWorker | None:
        """The worker a run recorded, or None (not recorded yet, or by another version)."""
        try:
            recorded = json.loads(run.tags[RUN_WORKER_TAG])
            return cls(
                str(recorded["host"]), int(recorded["pid"]), recorded.get("start"), recorded.get("pid_namespace")
            )
        except (KeyError, TypeError, ValueError):
            return None

    def tag(self) -> str:
        return json.dumps(
            {"host": self.host, "pid": self.pid, "start": self.start, "pid_namespace": self.pid_namespace}
        )

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def _pid_namespace() -> str | None:
    """This process's pid namespace (`pid:[4026531836]`), or None where /proc cannot tell."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    """``boot_id/starttime`` of a live process (Linux), "" for a process that is gone or a zombie (killed,
    not yet reaped by its parent), None where /proc cannot tell (not Linux)."""
    try:
        boot_id = _BOOT_ID.read_text().strip()
    except OSError:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    except OSError:
        return None
    # `pid (comm) state ...`: comm may hold spaces and parentheses, so split after its last ")".
    # Then field 3 (state) is the first, field 22 (starttime) the 20th (proc(5)).
    fields = stat.rpartition(")")[2].split()
    return "" if fields[0] in {"Z", "X"} else f"{boot_id}/{fields[19]}"


def worker_gone(run: DagsterRun) -> str | None:
    """Why ``run``'s recorded process is known to be gone, or None (alive, or not on this host, or not
    recorded)."""
    worker = RunWorker.of(run)
    if worker is None or worker.host != socket.gethostname() or worker.pid_namespace != _pid_namespace():
        return None
    now = _process_start(worker.pid)
    if now is None:  # no /proc: ask the kernel whether the pid exists
        try:
            os.kill(worker.pid, 0)
            return None
        except ProcessLookupError:
            pass
        except PermissionError:
            return None
    elif now and (worker.start is None or now == worker.start):
        return None
    return (
        f"the run's process ({worker.describe()}) died without recording an end: it was killed (kill -9, "
        "the out-of-memory killer) or its machine stopped"
    )


def fail_dead_runs(instance: DagsterInstance, by: str, skip_run_id: str | None = None) -> list[tuple[DagsterRun, str]]:
    """Mark failed every STARTED run of this host whose process is gone, saying ``by`` whom; returns them with
    the reason."""
    failed = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        run = record.dagster_run
        reason = None if run.run_id == skip_run_id else worker_gone(run)
        if reason is not None:
            instance.report_run_failed(run, f"Marked failed by {by}: {reason}.")
            failed.append((run, reason))
    return failed


class LocalRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher (runs go to the code server), and a worker health check for run
    monitoring: a run whose recorded process is gone from this host is FAILED, any other RUNNING.

    https://docs.dagster.io/deployment/execution/run-monitoring: "run monitoring ... detects run worker
    crashes" only for launchers that support it; this is the check the default launcher lacks.
    """

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        reason = worker_gone(run)
        if reason is not None:
            return CheckRunHealthResult(WorkerStatus.FAILED, reason)
        # Alive, or not checkable from here (another host, not recorded yet): never fail it on a guess.
        return CheckRunHealthResult(WorkerStatus.RUNNING)


class _RecordingInProcessExecutor(InProcessExecutor):
    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        instance, run_id = plan_context.instance, plan_context.run_id
        instance.add_run_tags(run_id, {RUN_WORKER_TAG: RunWorker.current().tag()})
        for dead, reason in fail_dead_runs(instance, by=f"run {run_id} as it started", skip_run_id=run_id):
            plan_context.log.warning(
                f"Run {dead.run_id} ({dead.job_name}) was still STARTED, but {reason}. It is now marked failed."
            )
        yield from super().execute(plan_context, execution_plan)


@executor(name="in_process", config_schema=IN_PROC_CONFIG)
def in_process_executor(init_context: Any) -> InProcessExecutor:
    """Dagster's in-process executor that first records the run's worker and fails the dead runs of this host."""
    core = _core_in_process_executor_creation(init_context.executor_config)
    return _RecordingInProcessExecutor(
        retries=core.retries, step_dependency_config=core.step_dependency_config, marker_to_close=core.marker_to_close
    )
