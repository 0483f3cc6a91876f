"""Permanent source errors fail a staging step at once: no `RetryPolicy` retry, a message naming the object and
the error, nothing written. (Transient S3 faults are retried: `faults/test_transient_faults.py`.)

The S3 tests run the real graph against moto's S3 server, with `faults/s3_proxy.py` in front of it to answer
chosen requests with an S3 error. Each starts from a warehouse that already holds the day and the song files,
so "nothing written" also means "nothing deleted".
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import pytest
from dagster import ExecuteInProcessResult
from dagster_aws.s3 import S3Resource

from sparkify_assets.sources.layout import event_key
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets_tests.conftest import (
    assert_failed_at_once,
    month_range,
    resources_for,
    run_graph,
    upload_tree,
)
from sparkify_assets_tests.faults.conftest import snapshot
from sparkify_assets_tests.faults.s3_proxy import Fault, FaultyS3Proxy

BUCKET, PREFIX = "sparkify-source-errors", "raw"
STAGING = ["staging_events", "staging_songs"]


def stage(source: SparkifySource | Path, warehouse: Path, step: str, partition: str | None) -> ExecuteInProcessResult:
    """One staging step of the real graph, its failure reported rather than raised."""
    return run_graph(resources_for(source, warehouse), partition=partition, selection=[step], raise_on_error=False)


def s3_source(endpoint: str, uri: str = f"s3://{BUCKET}/{PREFIX}") -> SparkifySource:
    """An S3 source with its own test credentials and one attempt a request (SPARKIFY_S3_MAX_ATTEMPTS=1)."""
    s3 = S3Resource(
        endpoint_url=endpoint,
        region_name="us-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        max_attempts=1,
    )
    return SparkifySource(uri=uri, s3=s3)


@pytest.fixture(scope="module")
def day(generated_sample: Path) -> str:
    return month_range(generated_sample)[0]


@pytest.fixture(scope="module")
def day_key(day: str) -> str:
    return event_key(date.fromisoformat(day))


@pytest.fixture(scope="module")
def loaded(moto_s3_endpoint: str, generated_sample: Path, day: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the day's events and the song files, loaded from the generated sample on moto's S3."""
    client = boto3.client(
        "s3", endpoint_url=moto_s3_endpoint, region_name="us-west-2",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    upload_tree(client, generated_sample, BUCKET, PREFIX)
    database = tmp_path_factory.mktemp("source-errors") / "loaded.duckdb"
    result = run_graph(resources_for(s3_source(moto_s3_endpoint), database), partition=day, selection=STAGING)
    assert result.success
    rows = snapshot(database)
    assert rows["staging_events"] and rows["staging_songs"]
    return database


@pytest.fixture
def warehouse(loaded: Path, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(loaded, tmp_path / "w.duckdb"))


@pytest.fixture
def proxy(moto_s3_endpoint: str) -> Iterator[FaultyS3Proxy]:
    with FaultyS3Proxy(upstream=moto_s3_endpoint) as running:
        yield running


# -- S3 ---------------------------------------------------------------------------------------------------
def test_a_missing_bucket_fails_at_once_naming_it(
    moto_s3_endpoint: str, day: str, day_key: str, warehouse: Path
) -> None:
    before = snapshot(warehouse)
    source = s3_source(moto_s3_endpoint, "s3://sparkify-no-such-bucket/raw")
    result = stage(source, warehouse, "staging_events", day)
    assert_failed_at_once(result, "staging_events", f"s3://sparkify-no-such-bucket/raw/{day_key}", "NoSuchBucket")
    assert snapshot(warehouse) == before


@pytest.mark.parametrize("code", ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"])
def test_a_refused_day_file_fails_at_once_naming_the_key_and_the_code(
    proxy: FaultyS3Proxy, day: str, day_key: str, warehouse: Path, code: str
) -> None:
    proxy.faults.append(Fault(day_key, status=403, code=code, times=None))
    before = snapshot(warehouse)
    result = stage(s3_source(proxy.url), warehouse, "staging_events", day)
    assert_failed_at_once(result, "staging_events", f"s3://{BUCKET}/{PREFIX}/{day_key}", code)
    assert [seen.status for seen in proxy.requests_for(day_key)] == [403]  # boto3 does not retry a 403 either
    assert snapshot(warehouse) == before


def test_a_refused_listing_of_song_files_fails_at_once(proxy: FaultyS3Proxy, warehouse: Path) -> None:
    proxy.faults.append(Fault("list-type=2", status=403, code="AccessDenied", times=None))
    before = snapshot(warehouse)
    result = stage(s3_source(proxy.url), warehouse, "staging_songs", None)
    assert_failed_at_once(result, "staging_songs", f"cannot list s3://{BUCKET}/{PREFIX}/song_data/", "AccessDenied")
    assert len(proxy.requests_for("list-type=2")) == 1
    assert snapshot(warehouse) == before


# -- a local source ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("step", STAGING)
def test_a_local_source_that_is_a_file_fails_at_once_naming_the_setting(step: str, day: str, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "source.json"
    not_a_folder.write_text("{}\n", encoding="utf-8")
    result = stage(not_a_folder, tmp_path / "w.duckdb", step, day if step == "staging_events" else None)
    assert_failed_at_once(result, step, f"SPARKIFY_SOURCE={str(not_a_folder)!r} is not a directory")


@pytest.mark.parametrize("unreadable", ["no read permission", "a folder"])
def test_a_day_file_that_cannot_be_read_fails_at_once_naming_it(
    unreadable: str, generated_sample: Path, day: str, day_key: str, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    shutil.copytree(generated_sample, source)
    path = source / day_key
    if unreadable == "a folder":
        path.unlink()
        path.mkdir()
        reason = "Is a directory"
    else:
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("this user reads files whatever their permissions (root)")
        reason = "Permission denied"
    result = stage(source, tmp_path / "w.duckdb", "staging_events", day)
    assert_failed_at_once(result, "staging_events", f"cannot read {path}: {reason}")
