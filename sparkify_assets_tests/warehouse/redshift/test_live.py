"""The whole graph on a real Redshift cluster and bucket: `pytest -m redshift`.

Needs the REDSHIFT_* login settings (docs/redshift.md), REDSHIFT_IAM_ROLE_ARN (a role the cluster may assume,
able to read the test bucket) and SPARKIFY_TEST_S3_URI (s3://bucket[/prefix] the test may write to, with AWS
credentials that can). The test uploads two days and the songs of the real sample under a fresh prefix, loads
them into a fresh schema, checks SPEC.md's published figures for 2018-11-05, re-runs the day, and removes both.
Skips, saying what is missing, otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sparkify_assets.resources import redshift_resources
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets_tests.conftest import run_graph

pytestmark = pytest.mark.redshift

DAY = "2018-11-05"


def _missing_settings() -> list[str]:
    missing = [name for name in ("REDSHIFT_IAM_ROLE_ARN", "SPARKIFY_TEST_S3_URI") if not os.environ.get(name)]
    if not any(os.environ.get(name) for name in ("REDSHIFT_HOST", "REDSHIFT_CLUSTER_IDENTIFIER", "REDSHIFT_WORKGROUP")):
        missing.append("REDSHIFT_HOST (or REDSHIFT_CLUSTER_IDENTIFIER / REDSHIFT_WORKGROUP)")
    return missing


@pytest.fixture
def live_source(real_sample: Path) -> Iterator[str]:
    missing = _missing_settings()
    if missing:
        pytest.skip(f"live Redshift suite: set {', '.join(missing)}")
    root = os.environ["SPARKIFY_TEST_S3_URI"].rstrip("/")
    bucket, _, prefix = root[len("s3://") :].partition("/")
    prefix = f"{prefix}/" if prefix else ""
    run_prefix = f"{prefix}sparkify-live-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3")
    files = [real_sample / "log_json_path.json", *sorted((real_sample / "song_data").rglob("*.json"))]
    files += [real_sample / "log_data" / "2018" / "11" / f"2018-11-{day}-events.json" for day in ("04", "05")]
    keys = []
    for path in files:
        key = f"{run_prefix}/{path.relative_to(real_sample).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        keys.append(key)
    try:
        yield f"s3://{bucket}/{run_prefix}"
    finally:
        for start in range(0, len(keys), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


@pytest.fixture
def live_resources(live_source: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    schema = f"sparkify_test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("SPARKIFY_SOURCE", live_source)
    monkeypatch.setenv("REDSHIFT_SCHEMA", schema)
    resources = redshift_resources()
    try:
        yield resources
    finally:
        warehouse: RedshiftWarehouse = resources["warehouse"].process_config_and_initialize()
        with warehouse.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        warehouse.close()


def _count(warehouse: RedshiftWarehouse, sql: str) -> int:
    return int(warehouse.query(sql)[0][0])


def test_the_whole_graph_for_a_day_on_a_live_cluster(live_resources: dict[str, Any]) -> None:
    """SPEC.md, "Figures on the real sample": partition 2018-11-05 alone; then the same day again."""
    assert run_graph(live_resources, partition=DAY).success
    warehouse: RedshiftWarehouse = live_resources["warehouse"].process_config_and_initialize()
    try:
        figures = {
            "staging_events": _count(warehouse, "SELECT COUNT(*) FROM staging_events"),
            "songplays": _count(warehouse, "SELECT COUNT(*) FROM songplays"),
            "time": _count(warehouse, "SELECT COUNT(*) FROM time"),
            "users": _count(warehouse, "SELECT COUNT(*) FROM users"),
            "staging_songs": _count(warehouse, "SELECT COUNT(*) FROM staging_songs"),
            "songs": _count(warehouse, "SELECT COUNT(*) FROM songs"),
            "artists": _count(warehouse, "SELECT COUNT(*) FROM artists"),
            "rejects": _count(warehouse, "SELECT COUNT(*) FROM staging_rejects"),
        }
        assert figures == {
            "staging_events": 408,
            "songplays": 356,
            "time": 356,
            "users": 29,
            "staging_songs": 71,
            "songs": 71,
            "artists": 69,
            "rejects": 0,
        }
        millis = _count(warehouse, "SELECT COUNT(*) FROM songplays WHERE EXTRACT(ms FROM start_time) % 1000 <> 0")
        assert millis > 0  # SPEC.md: start_time keeps its milliseconds
        ids = warehouse.query("SELECT songplay_id FROM songplays ORDER BY songplay_id")

        assert run_graph(live_resources, partition=DAY).success  # SPEC.md: a re-run replaces exactly that day
        assert _count(warehouse, "SELECT COUNT(*) FROM songplays") == 356
        assert warehouse.query("SELECT songplay_id FROM songplays ORDER BY songplay_id") == ids
    finally:
        warehouse.close()
