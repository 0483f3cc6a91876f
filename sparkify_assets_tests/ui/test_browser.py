"""The UI as operators use it: `dagster dev`, the Materialize call, and the pages in headless Chromium.

Needs Debian's `chromium` (`.ci/run` installs it). Without it the test is skipped, unless
SPARKIFY_REQUIRE_BROWSER=1 (CI), where a missing browser fails. Deselect with `-m "not browser"`.
With SPARKIFY_SCREENSHOTS_DIR set (e.g. `docs/img`), the screenshots are also written there.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from sparkify_assets.analytics.assets import DASHBOARD_TABLES
from sparkify_assets.checks.definitions import CHECKS
from sparkify_assets.sample.generator import generate_sample
from sparkify_assets_tests.conftest import skip_unless_required
from sparkify_assets_tests.ui.browser import chromium, chromium_binary
from sparkify_assets_tests.ui.dagster_ui import REPO_ROOT, dagster_dev

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PARTITION = "2018-11-03"
WAREHOUSE_ASSETS = ["staging_events", "staging_songs", "artists", "songs", "users", "time", "songplays"]
ASSETS = [*WAREHOUSE_ASSETS, *(table.name for table in DASHBOARD_TABLES)]
GROUPS = ("staging", "star", "analytics")


@pytest.fixture(scope="module")
def browser() -> str:
    binary = chromium_binary()
    if binary is None:
        reason = "headless Chromium not found: apt-get install -y chromium (or set SPARKIFY_CHROMIUM)"
        skip_unless_required("SPARKIFY_REQUIRE_BROWSER", reason)
    return binary


def save(shot: Path) -> None:
    """Keep a screenshot for the docs when SPARKIFY_SCREENSHOTS_DIR is set."""
    target = os.environ.get("SPARKIFY_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / shot.name)


def test_materialize_a_partition_in_the_ui_and_see_the_graph(browser: str, tmp_path: Path) -> None:
    sample, home = tmp_path / "sample", tmp_path / "dagster_home"
    generate_sample(sample, songs=40, days=3, events_per_day=80, seed=11)
    home.mkdir()
    # The project's instance settings, with telemetry off for a test.
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text() + "\ntelemetry:\n  enabled: false\n")
    env = {
        "SPARKIFY_SOURCE": str(sample),
        "SPARKIFY_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home),
    }
    with dagster_dev(env, tmp_path) as ui:
        # The Materialize button's call, for one partition of every asset with its checks.
        run_id = ui.materialize_partition(PARTITION)
        run = ui.wait_for_run(run_id, time.monotonic() + 90)
        assert run["status"] == "SUCCESS", ui.tail()
        partitions = {
            node["assetKey"]["path"][0]: node["partition"] for node in run["assetMaterializations"] if node["partition"]
        }
        assert partitions == {name: PARTITION for name in ASSETS if name not in ("staging_songs", "artists", "songs")}

        ui.dismiss_welcome_dialog()
        expanded = ",".join(f"global@global:{group}" for group in GROUPS)
        with chromium(browser, tmp_path / "chromium-profile") as page:
            # The asset graph, top to bottom (the layout setting a user picks under the graph's gear
            # button), every group expanded: large enough that every asset shows its full name and status.
            page.local_storage("asset-graph-direction", "vertical")
            page.viewport(2200, 1300, scale=1.5)
            page.open(f"{ui.url}/asset-groups?expanded={expanded}")
            page.wait_for_text([*ASSETS, "Passed"], absent=["Loading"], timeout=45)
            graph = page.screenshot(tmp_path / "asset-graph.png", around="foreignObject")  # the graph's boxes

            # A materialized partition of songplays with its checks, all passed.
            checks = sorted(spec.name for spec in CHECKS if spec.asset == "songplays")
            page.viewport(1600, 1000)
            page.open(f"{ui.url}/assets/songplays?view=checks")
            text = page.wait_for_text([*checks, PARTITION, "Passed"], absent=["Loading"], timeout=45)
            assert "Failed" not in text
            partition_checks = page.screenshot(tmp_path / "partition-checks.png")

    for shot in (graph, partition_checks):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        save(shot)
