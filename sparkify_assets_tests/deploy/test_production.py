"""The production deployment (deploy/), on this machine: Postgres instance storage, a code server, the daemon
and the webserver, started with deploy/Procfile's commands (the README's), and runs that recover by themselves.

One session (PostgreSQL from Debian's packages; `.ci/run` installs it), `max_concurrent_runs: 1`:
1. a `dagster asset materialize` run is killed with SIGKILL while it runs, a run launched through the
   webserver's GraphQL API (the Materialize button's call) queued behind it: run monitoring (the daemon)
   marks the dead run failed, saying its process died, and the queued run starts by itself and succeeds,
   its check results rows of Postgres's event log;
2. the same for a run the webserver launched (its worker a process the code server started): the code
   server marks it failed, and the next queued run starts.

A run is kept running by its day file: a named pipe nobody writes, so the run waits reading it until killed.
Without PostgreSQL the test is skipped, unless SPARKIFY_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sparkify_assets.run_workers import RUN_WORKER_TAG
from sparkify_assets_tests.conftest import skip_unless_required
from sparkify_assets_tests.deploy.postgres import Postgres, postgres_bin, postgres_server
from sparkify_assets_tests.deploy.processes import procfile, started, wait_for
from sparkify_assets_tests.ui.dagster_ui import NO_SUPERSEDED_WARNING, REPO_ROOT, DagsterUI, free_port
from sparkify_sample.generator import generate_sample

pytestmark = [pytest.mark.deploy, pytest.mark.slow]

DAYS = ("2018-11-01", "2018-11-02", "2018-11-03")
#: The day whose file is a named pipe: a run of it waits until it is killed.
STUCK_DAY = DAYS[1]
#: How soon a run whose process died must be failed and the queue go on (the issue's bound).
RECOVERY_SECONDS = 120

#: dagster-postgres's event log (table `event_logs`): a run's check results, and what explains its failure.
CHECK_EVALUATIONS_SQL = """
SELECT event FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_CHECK_EVALUATION'
"""
FAILURE_EVENTS_SQL = """
SELECT event FROM event_logs WHERE run_id = %s AND dagster_event_type IN ('PIPELINE_FAILURE', 'ENGINE_EVENT')
ORDER BY id
"""
_RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { runId status tags { key value } } }
}
"""
_RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId status tags { key value } } } }
}
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        reason = "PostgreSQL not found: apt-get install -y postgresql (or set SPARKIFY_POSTGRES_BIN)"
        skip_unless_required("SPARKIFY_REQUIRE_POSTGRES", reason)
    with postgres_server(bin_dir) as server:
        yield server


def test_the_production_processes_run_partitions_and_recover_from_killed_runs(
    postgres: Postgres, tmp_path: Path
) -> None:
    sample, home = tmp_path / "sample", tmp_path / "dagster_home"
    generate_sample(sample, songs=30, days=len(DAYS), events_per_day=60, seed=5)
    stuck = next(sample.rglob(f"{STUCK_DAY}-events.json"))
    stuck.unlink()
    os.mkfifo(stuck)
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    web_port = free_port()
    env = {
        **os.environ,
        **postgres.environment(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(home),
        "SPARKIFY_CODE_SERVER_HOST": "127.0.0.1",
        "SPARKIFY_CODE_SERVER_PORT": str(free_port()),
        "DAGSTER_WEBSERVER_HOST": "127.0.0.1",
        "DAGSTER_WEBSERVER_PORT": str(web_port),
        "SPARKIFY_WAREHOUSE": "duckdb",
        "SPARKIFY_SOURCE": str(sample),
        "SPARKIFY_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "SPARKIFY_PARTITIONS_START": DAYS[0],
        "SPARKIFY_PARTITIONS_END": DAYS[-1],
        "SPARKIFY_AUTOMATION": "off",
        "PYTHONWARNINGS": NO_SUPERSEDED_WARNING,
    }
    commands = procfile()
    assert list(commands) == ["code-server", "daemon", "webserver"]
    code_server = {"code-server": commands.pop("code-server")}
    cli_run = None
    # The code server first, serving before the processes that load the code location from it.
    with started(code_server, env, tmp_path) as servers:
        wait_for(
            lambda: serving(int(env["SPARKIFY_CODE_SERVER_PORT"])),
            "the code server answering",
            90,
            context=servers["code-server"].tail,
        )
        try:
            # The run to kill, started from the command line while the webserver and the daemon start.
            cli_run = subprocess.Popen(
                ["dagster", "asset", "materialize", "-m", "sparkify_assets.definitions", "--select", "*"]
                + ["--partition", STUCK_DAY],
                cwd=REPO_ROOT,
                env=env,
                stdout=(tmp_path / "cli-run.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            with started(commands, env, tmp_path) as others:
                processes = {**servers, **others}
                recover(postgres, cli_run, processes, web_port)
        finally:
            if cli_run is not None and cli_run.poll() is None:
                cli_run.kill()
            if cli_run is not None:
                cli_run.wait(timeout=10)


def recover(postgres: Postgres, cli_run: subprocess.Popen, processes: dict[str, Any], web_port: int) -> None:
    """Steps 1 and 2 of the module's docstring, with the three processes running."""
    ui = DagsterUI(url=f"http://127.0.0.1:{web_port}", log=processes["webserver"].log)

    def logs() -> str:
        return "\n\n".join(f"--- {name}:\n{entry.tail()}" for name, entry in processes.items())

    ui.wait_until_loaded(time.monotonic() + 90)
    assert ui.location == "sparkify_assets"

    # 1. The command-line run killed: only run monitoring can notice (its process was the CLI's own).
    dead = wait_for(lambda: running_worker(ui, STUCK_DAY, cli_run.pid), "the CLI run started", 90, context=logs)
    queued = assert_recovers(ui, postgres, dead, cli_run.pid, DAYS[0], processes["daemon"].log, logs)
    assert "died without recording an end" in failure_message(postgres, dead)
    assert ui.wait_for_run(queued, time.monotonic() + 120)["status"] == "SUCCESS", logs()
    planned = {
        (tuple(node["assetKey"]["path"]), check["name"])
        for node in ui.asset_nodes()
        for check in node["assetChecksOrError"].get("checks", [])
    }
    checks = check_results(postgres, queued)
    assert {(tuple(result["asset_key"]["path"]), result["check_name"]) for result in checks} == planned
    assert all(result["success"] for result in checks), checks  # `passed`, stored as "success"

    # 2. A run the webserver launched, its worker a process of the code server, killed the same way.
    launched = ui.materialize_partition(STUCK_DAY)
    worker_pid = wait_for(lambda: worker_of(ui, launched), "the launched run recorded its worker", 90, context=logs)
    assert worker_pid not in {entry.process.pid for entry in processes.values()}
    assert_recovers(ui, postgres, launched, worker_pid, DAYS[2], processes["daemon"].log, logs)
    # The code server notices at once (it watches the workers it started, and says so in Dagster's words);
    # run monitoring would within its poll interval.
    message = failure_message(postgres, launched)
    assert "terminated by signal 9 (SIGKILL)" in message or "died without recording an end" in message, message


def assert_recovers(
    ui: DagsterUI, postgres: Postgres, dead: str, pid: int, queued_day: str, daemon_log: Path, logs: Any
) -> str:
    """With ``dead`` running (its process ``pid``), a run of ``queued_day`` waits in the queue; after
    SIGKILL of ``pid``, ``dead`` is failed with a message that says its process died, and the queued run
    starts by itself, within the issue's 2 minutes. Returns the queued run's id."""
    held = daemon_log.read_text(errors="replace").count("won't launch more")
    queued = ui.materialize_partition(queued_day)
    assert ui.graphql(_RUN, {"runId": queued})["runOrError"]["status"] == "QUEUED"
    wait_for(
        lambda: daemon_log.read_text(errors="replace").count("won't launch more") > held,
        "the daemon holding the queued run behind the running one",
        60,
        context=logs,
    )
    assert ui.graphql(_RUN, {"runId": queued})["runOrError"]["status"] == "QUEUED"
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    status = wait_for(
        lambda: (
            ui.graphql(_RUN, {"runId": dead})["runOrError"]["status"] in {"FAILURE", "CANCELED", "SUCCESS"}
            and ui.graphql(_RUN, {"runId": dead})["runOrError"]["status"]
        ),
        "the killed run marked failed",
        RECOVERY_SECONDS,
        context=logs,
    )
    assert status == "FAILURE"
    message = failure_message(postgres, dead)
    assert str(pid) in message or "SIGKILL" in message, message
    wait_for(
        lambda: ui.graphql(_RUN, {"runId": queued})["runOrError"]["status"] != "QUEUED",
        "the queued run started",
        RECOVERY_SECONDS - (time.monotonic() - killed_at),
        context=logs,
    )
    return queued


def serving(port: int) -> bool:
    """Whether the code server on ``port`` answers Dagster's gRPC health check."""
    from dagster._grpc.client import DagsterGrpcClient

    with socket.socket() as probe:  # listening yet? (the gRPC client prints every refused connection)
        if probe.connect_ex(("127.0.0.1", port)) != 0:
            return False
    try:
        return DagsterGrpcClient(port=port, host="127.0.0.1").health_check_query() == "SERVING"
    except Exception:  # noqa: BLE001 - not listening yet, or not serving yet
        return False


def running_worker(ui: DagsterUI, day: str, pid: int) -> str | None:
    """The id of the STARTED run of ``day`` whose recorded worker is process ``pid``."""
    started_of_day = {"statuses": ["STARTED"], "tags": [{"key": "dagster/partition", "value": day}]}
    runs = ui.graphql(_RUNS, {"filter": started_of_day})
    for run in runs["runsOrError"]["results"]:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        if RUN_WORKER_TAG in tags and json.loads(tags[RUN_WORKER_TAG])["pid"] == pid:
            return run["runId"]
    return None


def worker_of(ui: DagsterUI, run_id: str) -> int | None:
    run = ui.graphql(_RUN, {"runId": run_id})["runOrError"]
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    if run["status"] == "STARTED" and RUN_WORKER_TAG in tags:
        return int(json.loads(tags[RUN_WORKER_TAG])["pid"])
    return None


def check_results(postgres: Postgres, run_id: str) -> list[dict[str, Any]]:
    """The run's asset check evaluations, as Postgres's event log holds them."""
    with postgres.connect() as connection, connection.cursor() as cursor:
        cursor.execute(CHECK_EVALUATIONS_SQL, (run_id,))
        events = [json.loads(row[0]) for row in cursor.fetchall()]
    return [event["dagster_event"]["event_specific_data"] for event in events]


def failure_message(postgres: Postgres, run_id: str) -> str:
    """Every message the run's event log holds after its start (the failure and the engine events that
    explain it), from Postgres."""
    with postgres.connect() as connection, connection.cursor() as cursor:
        cursor.execute(FAILURE_EVENTS_SQL, (run_id,))
        events = [json.loads(row[0]) for row in cursor.fetchall()]
    return "\n".join(
        f"{event.get('user_message')} {(event.get('dagster_event') or {}).get('message')}" for event in events
    )


def test_the_readme_gives_the_commands_the_deployment_test_runs() -> None:
    """One source of truth: the README's production section shows deploy/Procfile's commands, verbatim."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in procfile().items():
        assert command in readme, f"README.md does not give the Procfile's {name} command: {command}"
