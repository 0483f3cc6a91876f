"""The S3 path: dagster-aws's S3Resource and boto3 against moto's S3 server over HTTP, under a key prefix."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest
from dagster import build_resources
from dagster_aws.s3 import S3Resource

from sparkify_assets.resources import source_resource
from sparkify_assets.sources.errors import SourceError, SourceObjectMissing, SourceUnreachable
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets_tests.conftest import month_range, resources_for, run_graph, upload_tree
from sparkify_assets_tests.oracle import expected_warehouse


def resolved_source():
    """The deployment's source resource with its EnvVars resolved, as a run sees it."""
    with build_resources({"source": source_resource()}) as resources:
        return resources.source


TABLES = ("staging_events", "staging_songs", "staging_rejects", "songplays", "users", "songs", "artists", "time")


def table_counts(database: Path) -> dict[str, int]:
    from sparkify_assets_tests.conftest import duckdb_warehouse

    warehouse = duckdb_warehouse(database)
    return {table: warehouse.query(f"SELECT COUNT(*) FROM {table}")[0][0] for table in TABLES}


@pytest.fixture
def s3_sample(aws_test_env: str, generated_sample: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    client = boto3.client("s3", endpoint_url=aws_test_env, region_name="us-west-2")
    upload_tree(client, generated_sample, "sparkify-test", "raw/v1")
    monkeypatch.setenv("SPARKIFY_SOURCE", "s3://sparkify-test/raw/v1")
    return "s3://sparkify-test/raw/v1"


def test_s3_source_gives_the_same_warehouse_as_local(s3_sample: str, generated_sample: Path, tmp_path: Path) -> None:
    days = month_range(generated_sample)
    from_s3, from_disk = tmp_path / "s3.duckdb", tmp_path / "local.duckdb"
    # The deployment's own resource wiring: SPARKIFY_SOURCE and AWS_ENDPOINT_URL_S3 from the environment.
    run_graph(resources_for(source_resource(), from_s3), partition_range=days)
    run_graph(resources_for(generated_sample, from_disk), partition_range=days)
    counts = table_counts(from_s3)
    assert counts == table_counts(from_disk)
    assert counts["songplays"] == expected_warehouse(generated_sample).songplays


def test_source_keys_are_relative_to_the_prefix(s3_sample: str, tmp_path: Path) -> None:
    source = resolved_source()
    assert source.bucket == "sparkify-test" and source.prefix == "raw/v1/"
    keys = source.song_keys()
    assert keys and all(key.startswith("song_data/") for key in keys)
    fetched = dict(source.read_many(keys[:20]))
    assert list(fetched) == keys[:20]
    assert all(data.lstrip().startswith(b"{") for data in fetched.values())


def test_missing_day_object_names_the_s3_key(s3_sample: str) -> None:
    with pytest.raises(SourceObjectMissing) as missing:
        resolved_source().read("log_data/2030/01/2030-01-01-events.json")
    assert (
        str(missing.value) == "missing source file: s3://sparkify-test/raw/v1/log_data/2030/01/2030-01-01-events.json"
    )


def test_a_missing_bucket_is_a_permanent_error_naming_the_bucket_and_the_code(aws_test_env: str) -> None:
    source = SparkifySource(uri="s3://sparkify-no-such-bucket/raw", s3=S3Resource(max_attempts=0))
    for attempt in (source.song_keys, lambda: source.read("log_data/2018/11/2018-11-05-events.json")):
        with pytest.raises(SourceError) as refused:
            attempt()
        assert not isinstance(refused.value, SourceUnreachable)
        assert "s3://sparkify-no-such-bucket/raw/" in str(refused.value) and "NoSuchBucket" in str(refused.value)


def test_an_endpoint_that_does_not_answer_is_transient(aws_test_env: str) -> None:
    with socket.socket() as closed:  # a port nothing listens on: every connection is refused
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
    source = SparkifySource(uri="s3://sparkify-test/raw", s3=S3Resource(endpoint_url=endpoint, max_attempts=0))
    with pytest.raises(SourceUnreachable, match=r"cannot read s3://sparkify-test/raw/song_data/x\.json: Could not"):
        source.read("song_data/x.json")
    with pytest.raises(SourceUnreachable, match=r"cannot list s3://sparkify-test/raw/song_data/"):
        source.song_keys()


def test_a_day_object_is_read_in_pieces_from_one_get(s3_sample: str) -> None:
    """A day file is streamed in pieces (sources/slices.py reads it a slice at a time), through the same
    S3 resource; the pieces are the object's bytes, and a missing object is named as `read` names it."""
    source = resolved_source()
    key = next(key for key in source.list_keys("log_data/") if key.endswith(".json"))
    pieces = list(source.read_chunks(key, 1000))
    assert len(pieces) > 1 and all(len(piece) == 1000 for piece in pieces[:-1])
    assert b"".join(pieces) == source.read(key)
    with pytest.raises(SourceObjectMissing, match="s3://sparkify-test/raw/v1/log_data/2018/11/2018-11-31"):
        list(source.read_chunks("log_data/2018/11/2018-11-31-events.json", 1000))
