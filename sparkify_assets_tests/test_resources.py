"""Which engine's driver a code location imports: its own deployment's only (resources.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache

import pytest

_DRIVERS = ("duckdb", "redshift_connector")


@cache
def drivers_loaded(warehouse: str) -> frozenset[str]:
    """The engine drivers a fresh process has imported once it loaded the definitions for ``warehouse`` (one
    process per deployment, whichever tests ask)."""
    code = f"import sys, sparkify_assets.definitions; print(*(name for name in {_DRIVERS!r} if name in sys.modules))"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPARKIFY_", "REDSHIFT_"))}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        env={**env, "SPARKIFY_WAREHOUSE": warehouse},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return frozenset(done.stdout.split())


@pytest.mark.parametrize(("warehouse", "driver"), [("duckdb", "duckdb"), ("redshift", "redshift_connector")])
def test_a_deployment_loads_its_engine_s_driver(warehouse: str, driver: str) -> None:
    assert driver in drivers_loaded(warehouse)


def test_a_duckdb_deployment_does_not_import_redshift_connector() -> None:
    # Every process that loads the code location (each run, the CLI, the code server) would pay about 0.2 s.
    assert "redshift_connector" not in drivers_loaded("duckdb")
