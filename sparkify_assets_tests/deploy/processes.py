"""The production processes of deploy/Procfile, started as the README says, and stopped by their PIDs."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sparkify_assets_tests.ui.dagster_ui import REPO_ROOT

PROCFILE = REPO_ROOT / "deploy" / "Procfile"
T = TypeVar("T")


def procfile(path: Path = PROCFILE) -> dict[str, str]:
    """``name: command`` lines, in order (the commands hold $VARIABLES, expanded by the shell as honcho or
    foreman do)."""
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


@dataclass
class Started:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


@contextmanager
def started(commands: Mapping[str, str], env: Mapping[str, str], logs: Path) -> Iterator[dict[str, Started]]:
    """Start every command (`sh -c 'exec COMMAND'`: the PID is the command's own) in the repository, each in
    a session of its own, its output in ``logs/NAME.log``; stop them, last first, when the block ends."""
    running: dict[str, Started] = {}
    try:
        for name, command in commands.items():
            log = logs / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    ["/bin/sh", "-c", f"exec {command}"],
                    cwd=REPO_ROOT,
                    env=dict(env),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            running[name] = Started(name, process, log)
        yield running
    finally:
        for entry in reversed(list(running.values())):
            stop(entry.process)


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM to the PID (each process shuts down cleanly), then SIGKILL to what is left of its session:
    the code server's own gRPC child and any run worker it started are in it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_for(
    predicate: Callable[[], T | None], what: str, timeout: float, every: float = 0.5, context: Callable[[], str] = str
) -> T:
    """Poll until ``predicate()`` returns something truthy; return it. On time out, ``context()`` (logs) tells why."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{context()}")
        time.sleep(every)
