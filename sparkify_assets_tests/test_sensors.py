"""The arrival sensor: a new day file requests its partition (SPEC.md, "Partitions"), once per version.

Against a local folder and against moto's S3 server, with the cursor carried from tick to tick as the
daemon does.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from dagster import DefaultSensorStatus, SensorResult, build_sensor_context

from sparkify_assets import partitions, sensors
from sparkify_assets.definitions import defs
from sparkify_assets.resources import source_resource
from sparkify_assets.sensors import event_file_arrival_sensor
from sparkify_assets.sources.layout import event_key
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets_tests.conftest import local_source, upload_tree

FIRST_DAYS = ["2018-11-01", "2018-11-02", "2018-11-03"]


def tick(source: SparkifySource, cursor: str | None) -> SensorResult:
    """One evaluation, as the daemon runs it: the previous tick's cursor in, a result out."""
    with build_sensor_context(cursor=cursor, resources={"source": source}) as context:
        result = event_file_arrival_sensor(context)
    assert isinstance(result, SensorResult)
    return result


def requested(result: SensorResult) -> list[str]:
    return [request.partition_key for request in result.run_requests or []]


def put_day(root: Path, day: str, data: bytes) -> None:
    """Drop a day file the way the sensor's docs ask: write under another name, then rename into place."""
    target = root / event_key(datetime.fromisoformat(day).date())
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)


@pytest.fixture
def local_folder(generated_sample: Path, tmp_path: Path) -> Path:
    """A source folder holding the song files and the first three days of the generated sample."""
    root = tmp_path / "source"
    shutil.copytree(generated_sample / "song_data", root / "song_data")
    for day in FIRST_DAYS:
        put_day(root, day, (generated_sample / event_key(datetime.fromisoformat(day).date())).read_bytes())
    return root


def test_sensor_is_registered_stopped_and_targets_the_daily_job() -> None:
    sensor = defs.resolve_sensor_def("event_file_arrival_sensor")
    assert sensor.job_name == "daily_events_job"
    # Stopped unless SPARKIFY_AUTOMATION=sensor (test_definitions.py checks that setting).
    automation = os.environ.get("SPARKIFY_AUTOMATION", "off")
    assert automation == "sensor" or sensor.default_status == DefaultSensorStatus.STOPPED
    # The schedule it is an alternative to stays as it was.
    assert defs.resolve_schedule_def("daily_events_job_schedule").job_name == "daily_events_job"
    # The job rebuilds the day's star schema and then the day's dashboard tables.
    job = defs.resolve_job_def("daily_events_job")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "staging_events",
        "users",
        "time",
        "songplays",
        "daily_user_activity",
        "daily_catalogue_coverage",
        "daily_artist_plays",
        "daily_engagement",
    }


def test_local_folder_each_day_file_runs_once(local_folder: Path) -> None:
    source = local_source(local_folder)
    first = tick(source, None)
    assert requested(first) == FIRST_DAYS
    run_keys = [request.run_key for request in first.run_requests]
    assert all(key.startswith("log_data/2018/11/2018-11-0") and "@" in key for key in run_keys)
    assert len(set(run_keys)) == 3

    # The cursor carries over: the same files request nothing.
    second = tick(source, first.cursor)
    assert requested(second) == []
    assert "no new day files" in second.skip_reason.skip_message

    # A new day arrives: only it runs. Files that are not day files are ignored.
    put_day(local_folder, "2018-11-04", b'{"ts": 1541289600000, "page": "Home"}\n')
    (local_folder / "log_data" / "2018" / "11" / "notes.txt").write_text("not a day file")
    third = tick(source, second.cursor)
    assert requested(third) == ["2018-11-04"]
    assert requested(tick(source, third.cursor)) == []


def test_local_folder_rewritten_file_runs_its_day_again(local_folder: Path) -> None:
    source = local_source(local_folder)
    first = tick(source, None)
    path = local_folder / event_key(datetime(2018, 11, 2).date())
    put_day(local_folder, "2018-11-02", path.read_bytes() + b'{"ts": 1541203200000, "page": "Home"}\n')
    again = tick(source, first.cursor)
    assert requested(again) == ["2018-11-02"]
    (old_key,) = [r.run_key for r in first.run_requests if r.partition_key == "2018-11-02"]
    assert again.run_requests[0].run_key != old_key
    assert again.run_requests[0].tags["sparkify/source_key"] == "log_data/2018/11/2018-11-02-events.json"


def test_days_that_are_not_partitions_wait(local_folder: Path) -> None:
    source = local_source(local_folder)
    cursor = tick(source, None).cursor
    put_day(local_folder, "2018-10-31", b"")  # before the first partition
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    put_day(local_folder, tomorrow, b"")  # not a complete day yet
    result = tick(source, cursor)
    assert requested(result) == []
    message = result.skip_reason.skip_message
    assert "2 whose day is not a partition wait" in message
    assert "2018-10-31 is before the first partition, 2018-11-01 (SPARKIFY_PARTITIONS_START)" in message
    assert f"{tomorrow} is not over yet" in message
    assert json.loads(result.cursor)["requested"].keys() == json.loads(cursor)["requested"].keys()


def test_days_after_the_last_partition_wait_and_say_so(local_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SPARKIFY_PARTITIONS_END set, a file of a later day is not requested; the skip says why."""
    monkeypatch.setattr(partitions, "LAST_DAY", date(2018, 11, 2))
    result = tick(local_source(local_folder), None)
    assert requested(result) == ["2018-11-01", "2018-11-02"]
    again = tick(local_source(local_folder), result.cursor)
    assert requested(again) == []
    assert "2018-11-03 is after the last partition, 2018-11-02 (SPARKIFY_PARTITIONS_END)" in (
        again.skip_reason.skip_message
    )


def test_each_request_names_its_day_as_the_preview_shows_it(local_folder: Path) -> None:
    """The UI's preview of a tick lists the job per request and shows its tags: the day must be among them."""
    source = local_source(local_folder)
    with build_sensor_context(cursor=None, resources={"source": source}, definitions=defs) as context:
        result = event_file_arrival_sensor.evaluate_tick(context)
    days = [(request.tags["dagster/partition"], request.tags["sparkify/day"]) for request in result.run_requests]
    assert days == [(day, day) for day in FIRST_DAYS]


def test_a_tick_requests_at_most_the_cap_oldest_first(
    local_folder: Path, generated_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensors, "MAX_RUNS_PER_TICK", 2)
    source = local_source(local_folder)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        result = tick(source, cursor)
        seen += requested(result)
        cursor = result.cursor
    assert seen == FIRST_DAYS  # 2, then 1, then none: every day once


def test_cursor_of_another_source_starts_over(local_folder: Path, tmp_path: Path) -> None:
    cursor = tick(local_source(local_folder), None).cursor
    other = tmp_path / "other"
    shutil.copytree(local_folder, other)
    assert requested(tick(local_source(other), cursor)) == FIRST_DAYS


@pytest.fixture
def s3_source(aws_test_env: str, generated_sample: Path, monkeypatch: pytest.MonkeyPatch):
    """The first three days and the song files in a moto bucket under a prefix; SPARKIFY_SOURCE points there."""
    client = boto3.client("s3", endpoint_url=aws_test_env, region_name="us-west-2")
    staging = generated_sample.parent / "sensor-upload"
    if not staging.exists():
        shutil.copytree(generated_sample / "song_data", staging / "song_data")
        for day in FIRST_DAYS:
            put_day(staging, day, (generated_sample / event_key(datetime.fromisoformat(day).date())).read_bytes())
    upload_tree(client, staging, "sparkify-sensor", "raw")
    monkeypatch.setenv("SPARKIFY_SOURCE", "s3://sparkify-sensor/raw")
    # The deployment's own resource: a tick resolves its EnvVars (SPARKIFY_SOURCE, AWS_ENDPOINT_URL_S3).
    return source_resource(), client


def test_s3_each_object_runs_once_and_a_changed_object_again(s3_source) -> None:
    source, client = s3_source
    first = tick(source, None)
    assert requested(first) == FIRST_DAYS
    etag = client.head_object(Bucket="sparkify-sensor", Key="raw/log_data/2018/11/2018-11-01-events.json")["ETag"]
    assert first.run_requests[0].run_key == f"log_data/2018/11/2018-11-01-events.json@{etag.strip(chr(34))}"

    second = tick(source, first.cursor)
    assert requested(second) == []
    assert "s3://sparkify-sensor/raw/log_data/" in second.skip_reason.skip_message

    # Uploading the same bytes again keeps the ETag: nothing runs. New bytes run the day again.
    key = "raw/log_data/2018/11/2018-11-03-events.json"
    same = client.get_object(Bucket="sparkify-sensor", Key=key)["Body"].read()
    client.put_object(Bucket="sparkify-sensor", Key=key, Body=same)
    assert requested(tick(source, second.cursor)) == []
    client.put_object(Bucket="sparkify-sensor", Key=key, Body=same + b'{"ts": 1541203200000, "page": "Home"}\n')
    client.put_object(Bucket="sparkify-sensor", Key="raw/log_data/2018/11/2018-11-04-events.json", Body=b"")
    client.put_object(Bucket="sparkify-sensor", Key="raw/log_data/2018/11/2018-11-04-events.json.bak", Body=b"")
    third = tick(source, second.cursor)
    assert requested(third) == ["2018-11-03", "2018-11-04"]
    assert requested(tick(source, third.cursor)) == []


def test_s3_listing_error_names_the_location(aws_test_env: str) -> None:
    from dagster_aws.s3 import S3Resource

    from sparkify_assets.sources.errors import SourceError

    source = SparkifySource(uri="s3://no-such-sparkify-bucket/raw", s3=S3Resource(endpoint_url=aws_test_env))
    with pytest.raises(SourceError, match="s3://no-such-sparkify-bucket/raw/log_data/"):
        tick(source, None)
