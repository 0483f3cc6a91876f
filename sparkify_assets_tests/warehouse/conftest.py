"""Fixtures for the warehouse engine tests: the Redshift engine on a recording connection, an S3 source on moto.

No Redshift cluster is needed: `RecordingRedshiftWarehouse` is the production engine whose connection
records statements instead of sending them (`sparkify_assets/warehouse/redshift/recording.py`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlglot
from dagster_aws.s3 import S3Resource
from sqlglot import exp

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.layout import JSONPATHS_KEY, event_key
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.recording import RecordingRedshiftWarehouse

ROLE_ARN = "arn:aws:iam::123456789012:role/sparkify-copy"
BUCKET = "sparkify-redshift-test"
PREFIX = "udacity"
SOURCE_URI = f"s3://{BUCKET}/{PREFIX}"
#: The days the moto bucket holds (from the real sample).
DAYS = ("2018-11-04", "2018-11-05")


def recording_warehouse(log: StatementLog, **settings: Any) -> RecordingRedshiftWarehouse:
    return RecordingRedshiftWarehouse(**{"iam_role_arn": ROLE_ARN, **settings}, recorder=log)


@pytest.fixture
def s3_source(aws_test_env: str, real_sample: Path) -> SparkifySource:
    """The real sample's jsonpaths file and two days on moto's S3, as the Redshift engine sees its source."""
    client = boto3.client("s3", region_name="us-west-2", endpoint_url=aws_test_env)
    if BUCKET not in {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    keys = [JSONPATHS_KEY, *(event_key(DayWindow.parse(day).start_day) for day in DAYS)]
    for key in keys:
        client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}", Body=(real_sample / key).read_bytes())
    return SparkifySource(uri=SOURCE_URI, s3=S3Resource(region_name="us-west-2", endpoint_url=aws_test_env))


def parse_redshift(statement: str) -> exp.Expression:
    """One statement as sqlglot's Redshift dialect reads it; an error, or a statement sqlglot only keeps as
    an opaque command, fails the test."""
    expressions = sqlglot.parse(statement, read="redshift", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(expressions) == 1, f"not exactly one statement: {statement[:200]}"
    (expression,) = expressions
    assert expression is not None and not isinstance(expression, exp.Command), f"not parsed: {statement[:200]}"
    return expression


def one_line(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip()


def transactions(statements: Sequence[str]) -> list[list[str]]:
    """The statements between each BEGIN and its COMMIT (asserting they never nest and always close)."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for statement in statements:
        word = statement.split(None, 1)[0].upper()
        if word == "BEGIN":
            assert current is None, "BEGIN inside a transaction"
            current = []
        elif word in {"COMMIT", "ROLLBACK"}:
            assert current is not None, f"{word} outside a transaction"
            found.append(current)
            current = None
        elif current is not None:
            current.append(statement)
    assert current is None, "a transaction was never closed"
    return found
