"""The UI as operators use it: `dagster dev`, the Materialize call, and the pages in headless Chromium.

Two sessions: one partition launched through the webserver (the Materialize button's call), and the UI
after `make run` over the real sample (every asset over its 30 days in one run): every check Passed on
the Checks tab, one partition's check result Passed with 0 violations, 30 of 30 partitions materialized.

Needs Debian's `chromium` (`.ci/run` installs it). Without it the tests are skipped, unless
SPARKIFY_REQUIRE_BROWSER=1 (CI), where a missing browser fails. Deselect with `-m "not browser"`.
The screenshots are kept in each test's tmp dir; with SPARKIFY_SCREENSHOTS_DIR set (e.g. `docs/img`), the
ones the README shows (asset-graph.png and partition-checks.png, from the real sample) are written there.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from sparkify_assets.analytics.assets import DASHBOARD_TABLES
from sparkify_assets.checks.definitions import CHECKS
from sparkify_assets_tests.conftest import MonthRun, duckdb_warehouse, new_dagster_home, skip_unless_required
from sparkify_assets_tests.ui.browser import chromium, chromium_binary
from sparkify_assets_tests.ui.dagster_ui import dagster_dev
from sparkify_sample.generator import generate_sample

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PARTITION = "2018-11-03"
WAREHOUSE_ASSETS = ["staging_events", "staging_songs", "artists", "songs", "users", "time", "songplays"]
ASSETS = [*WAREHOUSE_ASSETS, *(table.name for table in DASHBOARD_TABLES)]
GROUPS = ("staging", "star", "analytics")
#: The partition whose check results the test opens (and the README's screenshot shows).
CHECKED_DAY = "2018-11-21"


@pytest.fixture(scope="module")
def browser() -> str:
    binary = chromium_binary()
    if binary is None:
        reason = "headless Chromium not found: apt-get install -y chromium (or set SPARKIFY_CHROMIUM)"
        skip_unless_required("SPARKIFY_REQUIRE_BROWSER", reason)
    return binary


def graph_url(ui_url: str) -> str:
    return f"{ui_url}/asset-groups?expanded=" + ",".join(f"global@global:{group}" for group in GROUPS)


def assert_png(shot: Path) -> None:
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, shot


def save(shot: Path) -> None:
    """Keep a screenshot for the docs when SPARKIFY_SCREENSHOTS_DIR is set."""
    target = os.environ.get("SPARKIFY_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / shot.name)


def test_materialize_a_partition_in_the_ui_and_see_the_graph(browser: str, tmp_path: Path) -> None:
    sample, home = tmp_path / "sample", new_dagster_home(tmp_path / "dagster_home")
    generate_sample(sample, songs=40, days=3, events_per_day=80, seed=11)
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
        with chromium(browser, tmp_path / "chromium-profile") as page:
            # The asset graph, top to bottom (the layout setting a user picks under the graph's gear
            # button), every group expanded: large enough that every asset shows its full name and status.
            page.local_storage("asset-graph-direction", "vertical")
            page.viewport(2200, 1300, scale=1.5)
            page.open(graph_url(ui.url))
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
        assert_png(shot)


def test_after_make_run_on_the_real_sample_every_check_passed_on_its_own_partition(
    browser: str, real_month_run: MonthRun, tmp_path: Path
) -> None:
    """Issue 11's acceptance, looked at as a user would: `make run` over the real sample, then the UI."""
    database, env = real_month_run.database, real_month_run.env
    days = env["SPARKIFY_PARTITIONS_START"], env["SPARKIFY_PARTITIONS_END"]
    assert days == ("2018-11-01", "2018-11-30")  # SPEC.md: the sample's 30 days
    songplays_checks = sorted(spec.name for spec in CHECKS if spec.asset == "songplays")
    (plays,) = duckdb_warehouse(database).query(
        "SELECT COUNT(*) FROM songplays WHERE CAST(start_time AS DATE) = :day", {"day": date.fromisoformat(CHECKED_DAY)}
    )[0]
    not_passed = ("Failed", "Skipped", "Execution failed", "In progress")

    with dagster_dev(env, tmp_path) as ui:
        ui.dismiss_welcome_dialog()
        with chromium(browser, tmp_path / "chromium-profile") as page:
            # The asset graph: every asset's checks "n / n Passed", every daily asset 100% filled.
            page.local_storage("asset-graph-direction", "vertical")
            page.viewport(2200, 1300, scale=1.5)
            page.open(graph_url(ui.url))
            passed = {f"{count} / {count} Passed" for count in Counter(spec.asset for spec in CHECKS).values()}
            text = page.wait_for_text([*ASSETS, *passed, "100% filled"], absent=["Loading"], timeout=60)
            assert not any(word in text for word in not_passed), text[:3000]
            graph = page.screenshot(tmp_path / "asset-graph.png", around="foreignObject")

            # songplays' Checks tab: every check listed as succeeded, the selected one Passed.
            page.viewport(1600, 1200)
            page.open(f"{ui.url}/assets/songplays?view=checks&checkDetail=songplays_row_count")
            text = page.wait_for_text([*songplays_checks, "Latest execution", "Passed"], absent=["Loading"], timeout=60)
            for name in songplays_checks:
                assert re.search(rf"^{name}\n(?:{name}\n)?Succeeded$", text, re.MULTILINE), (name, text[:3000])
            assert not any(word in text for word in not_passed), text[:3000]
            checks_tab = page.screenshot(tmp_path / "checks.png")

            # The check's partitions: 30 passed; one partition's own result, its own day's figures.
            page.click("Partitions", 'button[role="tab"]')
            statuses = ["Passed (30)", "Failed (0)", "Execution Failed (0)", "Skipped (0)", "Missing (0)"]
            page.wait_for_text([*statuses, "Select a partition to view details"], timeout=60)
            page.click(CHECKED_DAY)
            text = page.wait_for_text(
                [f"{plays} songplays, {plays} NextSong events", "violations"],
                absent=["Select a partition to view details"],
                timeout=60,
            )
            detail = text[text.rindex(CHECKED_DAY) :]  # the partition's panel, after the list of partitions
            assert re.search(r"^Passed$", detail, re.MULTILINE), detail
            assert re.search(r"^violations\n0$", detail, re.MULTILINE), detail
            partition_checks = page.screenshot(tmp_path / "partition-checks.png")

            # The asset's Partitions tab: 30 of 30 materialized; a partition's metadata is that day's.
            page.open(f"{ui.url}/assets/songplays?view=partitions")
            page.wait_for_text(["30 Partitions Selected", "Materialized (30)", "Missing (0)", "Failed (0)"], timeout=60)
            page.click(CHECKED_DAY)
            text = page.wait_for_text(["dagster/row_count", "run_window"], absent=["No partition selected"], timeout=60)
            assert re.search(rf"^dagster/row_count\s+{plays:,}$", text, re.MULTILINE), text[-2000:]
            partitions = page.screenshot(tmp_path / "partitions.png")

    for shot in (graph, checks_tab, partition_checks, partitions):
        assert_png(shot)
    for shot in (graph, partition_checks):
        save(shot)
