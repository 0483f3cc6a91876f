"""The arrival sensor: a day's log file appears under SPARKIFY_SOURCE, that day's partition runs.

An alternative to the fixed daily schedule (`schedules.py`) for sources that are not complete by 02:00
UTC. It lists `log_data/` (S3 or a local folder) and requests `daily_events_job` for the day of every
day file it has not requested yet, in day order.

What counts as new is an object *version*: the S3 ETag, or a local file's size and modification time.
So a rewritten file (late events, a corrected export) runs its day again, which replaces exactly that
day (SPEC.md, "Partitions"); re-uploading identical bytes to S3 keeps the ETag and runs nothing. The run
key is ``<key>@<version>``, and the cursor keeps the version last requested for each key: nothing runs
twice, even if the cursor were lost (Dagster skips a run key it has already seen for this sensor).

Files whose day is not a partition (today's file, a day before SPARKIFY_PARTITIONS_START or after
SPARKIFY_PARTITIONS_END) are left for a later tick; the tick's skip message says how many and why. On a
local folder, write a day file under another name and rename it into place, so that the sensor never sees
half a file (a half file would be loaded, then loaded again once complete).

Each request names its day (its partition, and the tag ``sparkify/day``): the UI's preview of a tick lists
only the job per request, and shows a request's tags behind its button.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from sparkify_assets.partitions import why_not_a_partition
from sparkify_assets.schedules import daily_events_job
from sparkify_assets.settings import automation
from sparkify_assets.sources.errors import SourceError, s3_error
from sparkify_assets.sources.layout import LOG_PREFIX, day_of_event_key
from sparkify_assets.sources.resource import SparkifySource

#: A tick requests at most this many days (the oldest first); the rest follow on the next ticks.
MAX_RUNS_PER_TICK = 100


@dataclass(frozen=True)
class DayFile:
    """One day's event file and the version of it the source holds now."""

    key: str
    day: date
    version: str

    @property
    def run_key(self) -> str:
        return f"{self.key}@{self.version}"


@dataclass
class ArrivalCursor:
    """The version last requested for each day file of one source (the sensor's cursor, as JSON)."""

    source: str
    requested: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None, source: str) -> "ArrivalCursor":
        """The stored cursor; a missing one, or one written for another source, starts empty."""
        if not text:
            return cls(source)
        stored = json.loads(text)
        if stored.get("source") != source:
            return cls(source)
        return cls(source, dict(stored.get("requested", {})))

    def is_new(self, file: DayFile) -> bool:
        return self.requested.get(file.key) != file.version

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "requested": self.requested}, sort_keys=True)


def day_files(source: SparkifySource) -> list[DayFile]:
    """Every day file under ``log_data/`` with its current version, in day order (other keys are ignored)."""
    versions = _s3_versions(source) if source.is_s3 else _local_versions(Path(source.uri))
    files = [DayFile(key, day, version) for key, version in versions.items() if (day := day_of_event_key(key))]
    return sorted(files, key=lambda file: (file.day, file.key))


@sensor(
    job=daily_events_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING if automation() == "sensor" else DefaultSensorStatus.STOPPED,
    description=(
        "Runs a day's partition of daily_events_job when its log file arrives (or is rewritten) under "
        "SPARKIFY_SOURCE. An alternative to daily_events_job_schedule: turn on one of the two "
        "(SPARKIFY_AUTOMATION=sensor starts this one)."
    ),
)
def event_file_arrival_sensor(context: SensorEvaluationContext, source: SparkifySource) -> SensorResult:
    cursor = ArrivalCursor.parse(context.cursor, source.uri)
    new = [file for file in day_files(source) if cursor.is_new(file)]
    not_partitions = {file.key: why for file in new if (why := why_not_a_partition(file.day))}
    ready = [file for file in new if file.key not in not_partitions]
    requests = []
    for file in ready[:MAX_RUNS_PER_TICK]:
        requests.append(
            RunRequest(
                run_key=file.run_key,
                partition_key=file.day.isoformat(),
                tags={
                    "sparkify/day": file.day.isoformat(),
                    "sparkify/source_key": file.key,
                    "sparkify/source_version": file.version[:63],
                },
            )
        )
        cursor.requested[file.key] = file.version
        context.log.info(f"{file.day}: {source.location(file.key)} is new (version {file.version})")
    if not requests:
        reason = f"no new day files under {source.location(LOG_PREFIX)}"
        if not_partitions:
            why = [not_partitions[key] for key in sorted(not_partitions)]
            shown = "; ".join(why[:3]) + ("; ..." if len(why) > 3 else "")
            reason += f"; {len(why)} whose day is not a partition wait ({shown})"
        return SensorResult(skip_reason=SkipReason(reason), cursor=cursor.to_json())
    return SensorResult(run_requests=requests, cursor=cursor.to_json())


def _s3_versions(source: SparkifySource) -> dict[str, str]:
    """Key (relative to the source root) -> ETag of every object under ``log_data/``."""
    paginator = source.s3.get_client().get_paginator("list_objects_v2")
    versions: dict[str, str] = {}
    try:
        for page in paginator.paginate(Bucket=source.bucket, Prefix=source.prefix + LOG_PREFIX):
            for item in page.get("Contents", []):
                versions[item["Key"][len(source.prefix) :]] = item["ETag"].strip('"')
    except (ClientError, BotoCoreError) as exc:
        raise s3_error(f"cannot list {source.location(LOG_PREFIX)}", exc) from exc
    return versions


def _local_versions(root: Path) -> dict[str, str]:
    """Key -> ``<size>-<mtime in ns>`` of every file under ``log_data/``."""
    if not root.is_dir():
        raise SourceError(f"SPARKIFY_SOURCE={str(root)!r} is not a directory")
    versions: dict[str, str] = {}
    for path in (root / LOG_PREFIX).rglob("*"):
        if path.is_file():
            stat = path.stat()
            versions[path.relative_to(root).as_posix()] = f"{stat.st_size}-{stat.st_mtime_ns}"
    return versions
