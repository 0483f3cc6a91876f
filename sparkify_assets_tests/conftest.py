"""Shared fixtures: warehouses, sources, the real sample, a generated sample (moto's server: ../conftest.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_aws.s3 import S3Resource
from hypothesis import settings

from sparkify_assets.checks.definitions import asset_checks
from sparkify_assets.definitions import ALL_ASSETS
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse

REPO_ROOT = Path(__file__).resolve().parents[1]

#: `pytest --hypothesis-profile=long`: many more sequences for the stateful test of SPEC.md's invariant.
settings.register_profile("long", max_examples=500, deadline=None)
#: CI (CI=true) runs the property tests on a fixed sequence of examples, so a submission's result does not
#: depend on the draw; explore with the default profile or `long`, and keep what they find as tests.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true" and settings.get_current_profile_name() == "default":
    settings.load_profile("ci")


def real_sample_dir() -> Path | None:
    """The real Udacity sample: SPARKIFY_SAMPLE_DIR, or ../shared/data/udacity-sample beside the repo."""
    configured = os.environ.get("SPARKIFY_SAMPLE_DIR")
    candidates = [Path(configured)] if configured else [REPO_ROOT.parent / "shared" / "data" / "udacity-sample"]
    return next((path for path in candidates if (path / "log_data").is_dir()), None)


def skip_unless_required(required_by: str, reason: str) -> None:
    """Skip for ``reason``, or fail when the environment variable ``required_by`` is 1 (as in CI)."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{required_by}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_sample() -> Path:
    path = real_sample_dir()
    if path is None:
        reason = "real sample not found: set SPARKIFY_SAMPLE_DIR or put it at ../shared/data/udacity-sample"
        skip_unless_required("SPARKIFY_REQUIRE_SAMPLE", reason)
    return path


def new_dagster_home(home: Path) -> Path:
    """A DAGSTER_HOME as `make` makes it: the repository's dagster.yaml (telemetry off for a test)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text() + "\ntelemetry:\n  enabled: false\n")
    return home


@dataclass(frozen=True)
class MonthRun:
    """`make run` over the real sample's month: its environment (source, warehouse, DAGSTER_HOME, partitions)."""

    env: dict[str, str]
    database: Path
    home: Path


@pytest.fixture(scope="session")
def real_month_run(real_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> MonthRun:
    """One `make run` over the real sample's month with a fresh DAGSTER_HOME, read by the instance tests
    (checks/) and the UI test (ui/): about 40 s each would take to make its own. Its readers only read it."""
    from sparkify_assets_tests.ui.dagster_ui import make_run  # the UI helpers import nothing of this file

    tmp = tmp_path_factory.mktemp("real-month")
    env = {
        "SPARKIFY_SOURCE": str(real_sample),
        "SPARKIFY_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "DAGSTER_HOME": str(new_dagster_home(tmp / "dagster_home")),
    }
    env |= make_run(env, tmp)
    return MonthRun(env, tmp / "warehouse.duckdb", tmp / "dagster_home")


@pytest.fixture(scope="session")
def generated_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated month with every quirk and a few malformed lines a day."""
    from sparkify_sample.generator import generate_sample

    out = tmp_path_factory.mktemp("generated-sample")
    generate_sample(out, songs=120, days=30, events_per_day=120, seed=7, malformed_per_day=2)
    return out


def local_source(path: Path | str) -> SparkifySource:
    return SparkifySource(uri=str(path), s3=S3Resource())


def duckdb_warehouse(path: Path, **settings: Any) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=str(path), memory_limit="512MB", threads=2, **settings)


def resources_for(source: Path | str | SparkifySource, database: Path, **warehouse_settings: Any) -> dict[str, Any]:
    if not isinstance(source, SparkifySource):
        source = local_source(source)
    return {"source": source, "warehouse": duckdb_warehouse(database, **warehouse_settings)}


def run_graph(
    resources: Mapping[str, Any],
    *,
    partition: str | None = None,
    partition_range: tuple[str, str] | None = None,
    selection: str | list[str] | None = None,
    raise_on_error: bool = True,
    instance: DagsterInstance | None = None,
) -> ExecuteInProcessResult:
    """Materialize the real asset graph (with its checks) in process, as `dagster asset materialize` does."""
    tags = {}
    if partition_range is not None:
        tags = {ASSET_PARTITION_RANGE_START_TAG: partition_range[0], ASSET_PARTITION_RANGE_END_TAG: partition_range[1]}
    return materialize(
        [*ALL_ASSETS, *asset_checks],
        resources=resources,
        partition_key=partition,
        tags=tags,
        selection=selection,
        raise_on_error=raise_on_error,
        instance=instance,
    )


def step_events(result: ExecuteInProcessResult, kind: str, step: str | None = None) -> list[Any]:
    """The run's events of one type (``STEP_FAILURE``, ``STEP_UP_FOR_RETRY``...), of one step if given."""
    return [e for e in result.all_events if e.event_type_value == kind and (step is None or e.step_key == step)]


def assert_failed_at_once(result: ExecuteInProcessResult, step: str, *named: str) -> None:
    """The step failed on its first attempt (no retry), with a message naming each of ``named``."""
    assert not result.success
    assert not step_events(result, "STEP_UP_FOR_RETRY"), "a permanent error was retried"
    (failure,) = step_events(result, "STEP_FAILURE")
    assert failure.step_key == step
    message = failure.event_specific_data.error.message
    for text in named:
        assert text in message


def month_range(sample: Path) -> tuple[str, str]:
    """First and last day file of a sample."""
    days = sorted(p.name[:10] for p in (sample / "log_data").rglob("*-events.json"))
    return days[0], days[-1]


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "warehouse.duckdb"


@pytest.fixture
def aws_test_env(monkeypatch: pytest.MonkeyPatch, moto_s3_endpoint: str) -> str:
    """Fake credentials and the moto endpoint, as a user would export them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_s3_endpoint)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_s3_endpoint


def upload_tree(client: Any, local_root: Path, bucket: str, prefix: str) -> int:
    """Copy a local source tree to s3://bucket/prefix/...; returns the number of objects."""
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    count = 0
    for path in sorted(local_root.rglob("*")):
        if path.is_file():
            client.put_object(
                Bucket=bucket, Key=f"{prefix}/{path.relative_to(local_root).as_posix()}", Body=path.read_bytes()
            )
            count += 1
    return count
