"""Asset checks: row counts reconcile, no orphan keys, unique keys (the dbt tests of this project).

Each check is one SQL query (``checks/sql``) returning ``(violations, detail)``; it passes at zero.
Orphan-key and uniqueness checks are blocking: a failure stops downstream assets and fails the run, so
`dagster asset materialize` exits non-zero.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    asset_check,
)

from sparkify_assets.partitions import DayWindow, daily_partitions
from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.sql import Identifier, SqlValue, read_sql

SQL = Path(__file__).parent / "sql"

#: Assets whose checks run per partition (the window of the run).
PARTITIONED_ASSETS = {"staging_events", "users", "time", "songplays"}


@dataclass(frozen=True)
class CheckSpec:
    """One check: its name, the asset it is about, its SQL and the identifiers that SQL takes."""

    name: str
    asset: str
    sql_file: str
    description: str
    blocking: bool = False
    identifiers: Mapping[str, str] = field(default_factory=dict)
    additional_deps: tuple[str, ...] = ()


def _orphans(child: str, column: str, parent: str, key: str | None = None) -> CheckSpec:
    return CheckSpec(
        name=f"{child}_{column}_orphans",
        asset=child,
        sql_file="orphans_in_window.sql" if child == "songplays" else "orphans.sql",
        description=f"Every non-null {child}.{column} names a row of {parent}.",
        blocking=True,
        identifiers={"child": child, "column": column, "parent": parent, "key": key or column},
        additional_deps=(parent,),
    )


def _unique(table: str, key: str) -> CheckSpec:
    return CheckSpec(
        name=f"{table}_{key}_unique",
        asset=table,
        sql_file="duplicate_keys.sql",
        description=f"{table}.{key} is never NULL and never repeated.",
        blocking=True,
        identifiers={"table": table, "key": key},
    )


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "staging_events_records_reconciled",
        "staging_events",
        "staging_events_records_reconciled.sql",
        "For each day file: staging rows plus rejects equal the records in the file.",
    ),
    CheckSpec(
        "staging_songs_records_reconciled",
        "staging_songs",
        "staging_songs_records_reconciled.sql",
        "For each song file: staging rows plus rejects equal the records in the file.",
    ),
    CheckSpec(
        "songplays_row_count",
        "songplays",
        "songplays_row_count.sql",
        "A partition's songplays equal its NextSong events: the song match never drops or duplicates a play.",
    ),
    CheckSpec("users_row_count", "users", "users_row_count.sql", "One user per distinct staged user id."),
    CheckSpec("songs_row_count", "songs", "songs_row_count.sql", "One song per distinct staged song id."),
    CheckSpec("artists_row_count", "artists", "artists_row_count.sql", "One artist per distinct staged artist id."),
    CheckSpec("time_row_count", "time", "time_row_count.sql", "One time row per distinct play start time."),
    _orphans("songplays", "user_id", "users"),
    _orphans("songplays", "start_time", "time"),
    _orphans("songplays", "song_id", "songs"),
    _orphans("songplays", "artist_id", "artists"),
    _orphans("songs", "artist_id", "artists"),
    _unique("users", "user_id"),
    _unique("songs", "song_id"),
    _unique("artists", "artist_id"),
    _unique("time", "start_time"),
    _unique("songplays", "songplay_id"),
)


def evaluate(spec: CheckSpec, warehouse: Warehouse, window: DayWindow | None) -> tuple[int, str | None]:
    """Run one check's SQL: ``(violations, detail)``. Tests call this directly on a corrupted warehouse."""
    params: dict[str, SqlValue] = {name: Identifier(value) for name, value in spec.identifiers.items()}
    if window is not None:
        params.update(window.sql_params)
    violations, detail = warehouse.query(read_sql(SQL / spec.sql_file), params)[0]
    return int(violations or 0), detail


def _build(spec: CheckSpec) -> AssetChecksDefinition:
    partitioned = spec.asset in PARTITIONED_ASSETS

    @asset_check(
        name=spec.name,
        asset=spec.asset,
        description=spec.description,
        blocking=spec.blocking,
        additional_deps=list(spec.additional_deps),
        partitions_def=daily_partitions if partitioned else None,
    )
    def _check(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
        window = DayWindow.from_time_window(*context.partition_time_window) if partitioned else None
        violations, detail = evaluate(spec, warehouse, window)
        return AssetCheckResult(
            passed=violations == 0,
            severity=AssetCheckSeverity.ERROR,
            description=detail if violations else None,
            metadata={"violations": violations, "detail": detail or "", "window": str(window or "all")},
        )

    return _check


asset_checks: list[AssetChecksDefinition] = [_build(spec) for spec in CHECKS]

#: For tests and tools: a check's spec by name.
CHECKS_BY_NAME: Mapping[str, CheckSpec] = {spec.name: spec for spec in CHECKS}
