"""Run the real `dagster` command in forked processes, each with its own settings and maybe a fault point armed.

    python -m sparkify_assets_tests.faults.driver PLAN.json

PLAN.json holds ``{"runs": [{"name", "point", "marker", "log", "env", "argv"}, ...]}``. The driver imports
Dagster and the code location once, then forks one child per run (all at once): the child takes the run's
environment, arms ``point`` (a name of `hooks.KILL_POINTS`, or ``none``) to write ``marker`` and pause when
reached, sends its output to ``log`` and runs Dagster's own CLI with ``argv`` (``asset materialize ...``),
exactly as the `dagster` script does. Forking after the imports saves every run the seconds they take.

The driver waits for its children and prints one JSON line each: ``{"name", "exit", "signal"}``. A child whose
point was never reached exits with 3, so a test never mistakes a finished run for a killed one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

NOT_REACHED_EXIT_CODE = 3


def main(plan_path: str) -> int:
    runs: list[dict[str, Any]] = json.loads(Path(plan_path).read_text(encoding="utf-8"))["runs"]
    # Settings are bound when the definitions are imported (`resources.py` makes an EnvVar of each one that is
    # set): set every variable a run uses before the import, each child then gives its own value.
    for run in reversed(runs):
        os.environ.update(run["env"])
    import duckdb  # noqa: F401  (imported before forking, with everything else)
    from dagster._cli import main as dagster_main  # noqa: F401

    import sparkify_assets.definitions  # noqa: F401

    children = {}
    for run in runs:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os._exit(_child(run))
        children[pid] = run["name"]
    while children:
        pid, status = os.wait()
        name = children.pop(pid)
        signal_number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        print(json.dumps({"name": name, "exit": exit_code, "signal": signal_number}), flush=True)
    return 0


def _child(run: dict[str, Any]) -> int:
    import duckdb
    from dagster._cli import main as dagster_main

    from sparkify_assets_tests.faults.hooks import KILL_POINTS, FaultPlan, watched_connect

    try:
        for name in [name for name in os.environ if name.startswith(("SPARKIFY_", "REDSHIFT_", "DAGSTER_HOME"))]:
            del os.environ[name]
        os.environ.update(run["env"])
        log = os.open(run["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        plan = None
        if run["point"] != "none":
            plan = FaultPlan(KILL_POINTS[run["point"]], action="pause", marker=Path(run["marker"]))
            duckdb.connect = watched_connect(plan, duckdb.connect)  # type: ignore[assignment]
        sys.argv = ["dagster", *run["argv"]]
        try:
            dagster_main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        if plan is not None and plan.hits == 0:
            print(f"fault point {run['point']} was never reached", file=sys.stderr)
            code = NOT_REACHED_EXIT_CODE
    except BaseException as exc:  # noqa: BLE001 - a child must never return into the parent's loop
        print(f"driver child failed: {exc!r}", file=sys.stderr)
        code = 4
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
