"""`sparkify sql`'s plan: the statements a run sends to the warehouse, recorded by running the real run
against a stand-in.

`record_run` materializes the whole asset graph for one partition in process, exactly as
`dagster asset materialize --select '*' --partition DAY` does, with the deployment's own resources
(`resources.py`, so the same settings) except for two stand-ins: the warehouse's connection records each
statement instead of sending it (`warehouse/redshift/recording.py`, `warehouse/duckdb/recording.py`), and the
source is `PlannedSource`, which reads nothing. Nothing is sent to a warehouse and no credential is needed.

The statements of a run never depend on the data, only the metadata does: a plan shows what will run
whatever the source holds. They do depend on the warehouse in one place: the functions and views are created
only where they are missing or older than the code (`Warehouse.create_tables`). A plan is of a daily run, on a
warehouse where an earlier run of this code created them, so it creates none; ``first_run=True`` plans the
first run on a new warehouse, which creates them.

It is a tool over the whole code location (`definitions`), so it lives with its command: inside
`sparkify_assets/warehouse/` it would close an import cycle (the assets import the warehouse).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, DagsterEvent, materialize

from sparkify_assets.checks.definitions import asset_checks
from sparkify_assets.definitions import ALL_ASSETS
from sparkify_assets.resources import duckdb_resources, redshift_resources
from sparkify_assets.sources.errors import SourceError
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse
from sparkify_assets.warehouse.duckdb.recording import RecordingDuckDBWarehouse
from sparkify_assets.warehouse.recording import Answer, RecordedStatement, StatementLog
from sparkify_assets.warehouse.redshift.recording import RecordingRedshiftWarehouse

ENGINES = ("redshift", "duckdb")
#: COPY's REGION in a plan when REDSHIFT_COPY_REGION is not set: the run asks S3 for the bucket's region.
BUCKET_REGION_AT_RUN_TIME = "bucket-region-asked-of-s3-at-run-time"

#: Dagster's own log lines would only interleave with the plan.
_QUIET: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class PlannedSource(SparkifySource):
    """The source as a plan sees it, without reading it: each day file exists alone under its key and is
    empty; there are no song files to read one by one (Redshift COPYs them by prefix)."""

    def read(self, key: str) -> bytes:
        return b""

    def read_head(self, key: str, size: int) -> bytes:
        return b""

    def read_chunks(self, key: str, chunk_bytes: int) -> Iterator[bytes]:
        yield b""

    #: An empty file in the plan's scratch folder: each day file of a local source, for DuckDB to read itself
    #: as it reads the real ones in a run (`warehouse/duckdb/day_lines.py`).
    empty_file: str = ""

    def local_file(self, key: str) -> str | None:
        return None if self.is_s3 else self.empty_file

    def read_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for key in keys:
            yield key, b""

    def song_keys(self) -> list[str]:
        return []

    def list_keys(self, under: str) -> list[str]:
        return [under]

    def bucket_region(self) -> str:
        """Asked of S3 as a run asks it (REDSHIFT_COPY_REGION not set), so that the plan names the bucket's
        region; where S3 does not answer (no credential, no network: a plan needs neither), the COPYs say in
        their REGION that the run asks S3."""
        try:
            return super().bucket_region()
        except SourceError:
            return BUCKET_REGION_AT_RUN_TIME


class PlanFailed(RuntimeError):
    """The recorded run failed: a setting, or the source; the message is the innermost error's."""


def record_run(
    engine: str, partition: str, answer: Answer | None = None, first_run: bool = False
) -> list[RecordedStatement]:
    """Every statement a run of the whole graph for ``partition`` sends to ``engine``, in order: a daily run,
    or with ``first_run`` the first run on a new warehouse."""
    log = StatementLog(answer)
    with tempfile.TemporaryDirectory(prefix="sparkify-plan-") as scratch:
        resources = _recording_resources(engine, log, Path(scratch), first_run)
        result = materialize(
            [*ALL_ASSETS, *asset_checks],
            resources=resources,
            partition_key=partition,
            run_config=_QUIET,
            raise_on_error=False,
        )
    if not result.success:
        raise PlanFailed(_first_error(result.all_events))
    return log.statements


def _first_error(events: Iterable[DagsterEvent]) -> str:
    """What failed first, as the innermost error says it (Dagster wraps what a resource or a step raised)."""
    for event in events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            while error.cause is not None:
                error = error.cause
            return error.message.split(": ", 1)[-1].strip()
    return "the run failed"


def _recording_resources(engine: str, log: StatementLog, scratch: Path, first_run: bool) -> dict[str, Any]:
    if engine == "redshift":
        resources = redshift_resources()
        settings = _settings_of(resources["warehouse"])
        warehouse: Any = RecordingRedshiftWarehouse(**settings, recorder=log, views_exist=not first_run)
    elif engine == "duckdb":
        resources = duckdb_resources()
        settings = {**_settings_of(resources["warehouse"]), "path": str(scratch / "plan.duckdb")}
        if not first_run:  # the scratch warehouse as an earlier run left it, unrecorded
            DuckDBWarehouse(path=settings["path"]).create_tables()
        warehouse = RecordingDuckDBWarehouse(**settings, recorder=log)
    else:
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    empty_file = scratch / "empty-day-file.json"
    empty_file.touch()
    source = PlannedSource(**_settings_of(resources["source"]), empty_file=str(empty_file))
    return {**resources, "warehouse": warehouse, "source": source}


def _settings_of(resource: ConfigurableResource) -> dict[str, Any]:
    """The settings a resource was given (environment variables stay unresolved until the run starts)."""
    return {name: getattr(resource, name) for name in resource.model_fields_set}
