"""What the assets and checks need from a warehouse, whichever engine holds it.

Each engine (``warehouse/duckdb``, ``warehouse/redshift``) is a Dagster resource implementing this class;
`definitions.py` picks one per deployment. Everything engine-neutral (the star-schema SQL, the checks)
runs through `run_script` and `query`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.errors import SourceError
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.sql import SqlValue

#: Engine-neutral SQL shared by every engine.
SHARED_SQL = Path(__file__).parent / "sql"

Log = Callable[[str], None]


@dataclass(frozen=True)
class FileLoad:
    """What loading one source file into staging did."""

    source_key: str
    partition_day: date | None
    records: int
    loaded: int
    rejected: int


class TooManyRejects(SourceError):
    """More of a file's records were rejected than SPARKIFY_MAX_REJECT_PERCENT allows: it looks broken."""


class Warehouse(ConfigurableResource):
    """Base class of the warehouse engines."""

    max_reject_percent: int = Field(
        default=50,
        ge=0,
        le=100,
        description="SPARKIFY_MAX_REJECT_PERCENT: when more than this share of a day file's records (or of "
        "the song files' records, together) is rejected, the load fails and the partition keeps its "
        "previous rows: a file that is mostly bad is a broken export, not bad records.",
    )

    def require_few_rejects(self, loads: Sequence[FileLoad], catalogue: str | None = None) -> None:
        """Fail the load (before it commits) when a day file, or the song ``catalogue`` as a whole, has
        more rejects than ``max_reject_percent`` of its records."""
        if catalogue is not None:
            totals = [(catalogue, sum(load.records for load in loads), sum(load.rejected for load in loads))]
        else:
            totals = [(load.source_key, load.records, load.rejected) for load in loads]
        for name, records, rejected in totals:
            if records and rejected * 100 > self.max_reject_percent * records:
                raise TooManyRejects(
                    f"{name}: {rejected:,} of {records:,} records rejected ({rejected / records:.0%}), more than "
                    f"SPARKIFY_MAX_REJECT_PERCENT={self.max_reject_percent}: the file looks broken, so nothing "
                    "was loaded and the partition keeps its previous rows. Fix the file, or raise the setting "
                    "to load its valid records and keep the others in staging_rejects."
                )

    @property
    def engine_name(self) -> str:
        raise NotImplementedError

    def qualified_name(self, table: str) -> str:
        """``schema.table`` as the engine names it (``dagster/table_name``)."""
        raise NotImplementedError

    def create_tables(self) -> None:
        """Create every table and view that does not exist yet."""
        raise NotImplementedError

    def load_staging_events(self, source: SparkifySource, window: DayWindow, log: Log) -> list[FileLoad]:
        """Replace the window's days in staging_events (and their rejects), all or nothing."""
        raise NotImplementedError

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        """Replace staging_songs (and its rejects) with every song file, all or nothing."""
        raise NotImplementedError

    def run_script(self, sql: str, params: Mapping[str, SqlValue]) -> None:
        """Run every statement of ``sql`` in one transaction."""
        raise NotImplementedError

    def query(self, sql: str, params: Mapping[str, SqlValue] | None = None) -> list[tuple[Any, ...]]:
        """Rows of one SELECT."""
        raise NotImplementedError

    def columns(self, table: str) -> Sequence[tuple[str, str]]:
        """``(name, type)`` of each column of a table, in order."""
        raise NotImplementedError
