"""Asset checks: row counts reconcile, no orphan keys, unique keys (the dbt tests of this project).

Each check is one SQL query (``checks/sql``) returning ``(violations, detail)``; it passes at zero.
Orphan-key and uniqueness checks are blocking: a failure stops downstream assets and fails the run, so
`dagster asset materialize` exits non-zero. The checks of one asset run together in one step.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    multi_asset_check,
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


def _unique(table: str, key: str, day_column: str | None = None) -> CheckSpec:
    """With a ``day_column``, the check of a partition looks at that partition's keys only (against the
    whole table): a daily run does not scan the table's history."""
    identifiers = {"table": table, "key": key} | ({"column": day_column} if day_column else {})
    return CheckSpec(
        name=f"{table}_{key}_unique",
        asset=table,
        sql_file="duplicate_keys_in_window.sql" if day_column else "duplicate_keys.sql",
        description=f"{table}.{key} is never NULL and never repeated.",
        blocking=True,
        identifiers=identifiers,
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
    CheckSpec(
        "songplays_name_their_song",
        "songs",
        "plays_name_their_song.sql",
        "Every matched play names a row of songs and that song's own artist_id, after every catalogue reload.",
        blocking=True,
    ),
    _orphans("songplays", "user_id", "users"),
    _orphans("songplays", "start_time", "time"),
    _orphans("songplays", "song_id", "songs"),
    _orphans("songplays", "artist_id", "artists"),
    _orphans("songs", "artist_id", "artists"),
    _unique("users", "user_id"),
    _unique("songs", "song_id"),
    _unique("artists", "artist_id"),
    _unique("time", "start_time", day_column="start_time"),
    _unique("songplays", "songplay_id", day_column="start_time"),
)


def evaluate(spec: CheckSpec, warehouse: Warehouse, window: DayWindow | None) -> tuple[int, str | None]:
    """Run one check's SQL: ``(violations, detail)``. Tests call this directly on a corrupted warehouse."""
    params: dict[str, SqlValue] = {name: Identifier(value) for name, value in spec.identifiers.items()}
    if window is not None:
        params.update(window.sql_params)
    violations, detail = warehouse.query(read_sql(SQL / spec.sql_file), params)[0]
    return int(violations or 0), detail


def _build(asset: str, specs: Sequence[CheckSpec]) -> AssetChecksDefinition:
    """One step runs every check of ``asset``: one Dagster step per asset instead of one per check (each
    step is a fixed cost: events written to the instance, a connection to the warehouse). Each check keeps
    its own name, result and blocking flag; a blocking check that fails still fails the step after all the
    asset's checks have reported, and stops the assets downstream."""
    partitioned = asset in PARTITIONED_ASSETS
    by_name = {spec.name: spec for spec in specs}

    @multi_asset_check(
        name=f"{asset}_checks",
        specs=[
            AssetCheckSpec(
                spec.name,
                asset=spec.asset,
                description=spec.description,
                blocking=spec.blocking,
                additional_deps=list(spec.additional_deps),
                partitions_def=daily_partitions if partitioned else None,
            )
            for spec in specs
        ],
        can_subset=True,
    )
    def _checks(context: AssetCheckExecutionContext, warehouse: Warehouse) -> Iterator[AssetCheckResult]:
        window = DayWindow.from_time_window(*context.partition_time_window) if partitioned else None
        for key in sorted(context.selected_asset_check_keys, key=lambda key: key.name):
            spec = by_name[key.name]
            violations, detail = evaluate(spec, warehouse, window)
            yield AssetCheckResult(
                asset_key=key.asset_key,
                check_name=spec.name,
                passed=violations == 0,
                severity=AssetCheckSeverity.ERROR,
                description=detail if violations else None,
                metadata={"violations": violations, "detail": detail or "", "window": str(window or "all")},
            )

    return _checks


#: One multi-check per asset, in the order the assets first appear in CHECKS.
asset_checks: list[AssetChecksDefinition] = [
    _build(asset, [spec for spec in CHECKS if spec.asset == asset]) for asset in dict.fromkeys(s.asset for s in CHECKS)
]

#: For tests and tools: a check's spec by name.
CHECKS_BY_NAME: Mapping[str, CheckSpec] = {spec.name: spec for spec in CHECKS}
