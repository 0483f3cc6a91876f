"""A running Dagster UI for tests: `dagster dev` in its own process group, and its GraphQL API.

The GraphQL calls are the ones the UI itself makes: `launchPipelineExecution` with the asset job, the
selected assets and checks and a `dagster/partition` tag is what the Materialize button sends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DAGSTER = Path(sys.executable).with_name("dagster")
SPARKIFY = Path(sys.executable).with_name("sparkify")
REPO_ROOT = Path(__file__).resolve().parents[2]
#: What the Makefile sets for `dagster asset materialize` (Dagster 1.13 says `dg launch` supersedes it).
NO_SUPERSEDED_WARNING = "ignore:Function `asset_materialize_command` is superseded"

_WORKSPACE = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message }
        }
      }
    }
  }
}
"""
_ASSET_NODES = """
query {
  assetNodes {
    assetKey { path }
    isPartitioned
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""
_LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
_RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      assetMaterializations { assetKey { path } partition }
    }
  }
}
"""
_DONE = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DagsterUI:
    """A `dagster dev` serving on ``url``; ``log`` is where its output goes."""

    url: str
    log: Path
    location: str = ""
    repository: str = ""

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": dict(variables or {})}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def wait_until_loaded(self, deadline: float) -> None:
        """Wait for the webserver, then for the code location to load (raising its error if it fails)."""
        while True:
            try:
                entries = self.graphql(_WORKSPACE, timeout=5)["workspaceOrError"]["locationEntries"]
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                entries = []
            loaded = [e for e in entries if e["loadStatus"] == "LOADED"]
            if loaded:
                location = loaded[0]["locationOrLoadError"]
                if location["__typename"] != "RepositoryLocation":
                    raise AssertionError(f"code location failed to load: {location}")
                self.location, self.repository = location["name"], location["repositories"][0]["name"]
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"code location not loaded in time; dagster dev said:\n{self.tail()}")
            time.sleep(0.5)

    def asset_nodes(self) -> list[dict[str, Any]]:
        return self.graphql(_ASSET_NODES)["assetNodes"]

    def materialize_partition(self, partition: str) -> str:
        """Launch every asset and check for one partition, as "Materialize all" does; returns the run id."""
        nodes = self.asset_nodes()
        params = {
            "mode": "default",
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
            "selector": {
                "repositoryLocationName": self.location,
                "repositoryName": self.repository,
                "pipelineName": "__ASSET_JOB",
                "assetSelection": [{"path": node["assetKey"]["path"]} for node in nodes],
                "assetCheckSelection": [
                    {"assetKey": {"path": node["assetKey"]["path"]}, "name": check["name"]}
                    for node in nodes
                    for check in node["assetChecksOrError"].get("checks", [])
                ],
            },
        }
        launched = self.graphql(_LAUNCH, {"executionParams": params})["launchPipelineExecution"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise AssertionError(f"launch failed: {launched}")
        return launched["run"]["runId"]

    def wait_for_run(self, run_id: str, deadline: float) -> dict[str, Any]:
        while True:
            run = self.graphql(_RUN, {"runId": run_id})["runOrError"]
            if run.get("status") in _DONE:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} still {run.get('status')}; dagster dev said:\n{self.tail()}")
            time.sleep(1)

    def dismiss_welcome_dialog(self) -> None:
        """What "Skip" on the first-visit community dialog does (the server remembers it)."""
        self.graphql("mutation { setNuxSeen }")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def make_run(env: Mapping[str, str], workdir: Path, timeout: float = 600) -> dict[str, str]:
    """What `make run` does, its commands run directly (make would also install): the partitions are the
    days the source holds (`sparkify days`), then every asset over all of them in one run, as the Makefile
    runs it. Returns the partition settings, which `make dev` sets too; the output goes to make-run.log."""
    full = {**os.environ, **env}
    days = subprocess.run(
        [str(SPARKIFY), "days"], env=full, capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    first, last = days.split("...")
    partitions = {"SPARKIFY_PARTITIONS_START": first, "SPARKIFY_PARTITIONS_END": last}
    done = subprocess.run(
        [str(DAGSTER), "asset", "materialize", "-m", "sparkify_assets.definitions", "--select", "*"]
        + ["--partition-range", days],
        cwd=REPO_ROOT,
        env={**full, **partitions, "PYTHONWARNINGS": NO_SUPERSEDED_WARNING},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    (workdir / "make-run.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise AssertionError(f"make run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return partitions


@contextmanager
def dagster_dev(env: Mapping[str, str], workdir: Path, timeout: float = 90) -> Iterator[DagsterUI]:
    """`dagster dev -m sparkify_assets` (webserver, daemon, code server) on a free localhost port.

    It runs in a process group of its own, which is interrupted (then killed) when the block ends.
    """
    port = free_port()
    ui = DagsterUI(url=f"http://127.0.0.1:{port}", log=workdir / "dagster-dev.log")
    with ui.log.open("wb") as log:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-m", "sparkify_assets", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ui.wait_until_loaded(time.monotonic() + timeout)
        yield ui
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """Interrupt the process group we started (Ctrl-C, as a user stops `dagster dev`), then kill it.

    The instance is a throwaway: after a short grace the rest of the group is killed.
    """
    for sig, grace in ((signal.SIGINT, 3), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            # The group can outlive its leader for a moment (run workers, code server): kill what is left.
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return
