"""Asset checks: row counts reconcile, no orphan keys, unique keys (the dbt tests of this project).

Each check is one SQL query (``checks/sql``); it passes at zero violations. A check of a daily asset
returns ``(day, violations, detail)`` for the days of the run's window that have something to report, and
reports one result per day on that day's partition, so a run of 30 days shows 30 results per check, each
with its own day's figures. A check of an unpartitioned asset returns one ``(violations, detail)``.
Orphan-key and uniqueness checks are blocking: a failure (on any day) stops downstream assets and fails the
run, so `dagster asset materialize` exits non-zero. The checks of one asset run together in one step.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from time import perf_counter

from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    EventLogRecord,
    Output,
    multi_asset_check,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from sparkify_assets.graph import DAILY_ASSET_KEYS
from sparkify_assets.metadata import as_day
from sparkify_assets.partitions import DayWindow, daily_partitions
from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.sql import Identifier, SqlValue, read_sql

SQL = Path(__file__).parent / "sql"

#: Assets whose checks report one result per partition (per day of the run's window).
PARTITIONED_ASSETS = frozenset(key.to_user_string() for key in DAILY_ASSET_KEYS)


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


def _orphans(child: str, column: str, parent: str, sql_file: str) -> CheckSpec:
    """``sql_file``: `orphans_in_window.sql` for the days of a daily table, `orphans.sql` for a whole table."""
    return CheckSpec(
        name=f"{child}_{column}_orphans",
        asset=child,
        sql_file=sql_file,
        description=f"Every non-null {child}.{column} names a row of {parent}.",
        blocking=True,
        identifiers={"child": child, "column": column, "parent": parent, "key": column},
        additional_deps=(parent,),
    )


def _unique(table: str, key: str, sql_file: str, day_column: str | None = None) -> CheckSpec:
    """``sql_file``: `duplicate_keys_in_window.sql` with a ``day_column`` (a partition's check looks at that
    partition's keys only, against the whole table: a daily run does not scan the table's history), else
    `duplicate_keys.sql`."""
    identifiers = {"table": table, "key": key} | ({"column": day_column} if day_column else {})
    return CheckSpec(
        name=f"{table}_{key}_unique",
        asset=table,
        sql_file=sql_file,
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
    CheckSpec(
        "users_row_count",
        "users",
        "users_row_count.sql",
        "One users row per distinct user id staged; a partition answers for the users seen that day.",
    ),
    CheckSpec(
        "songs_row_count",
        "songs",
        "catalogue_row_count.sql",
        "One song per distinct staged song id.",
        identifiers={"table": "songs", "key": "song_id"},
    ),
    CheckSpec(
        "artists_row_count",
        "artists",
        "catalogue_row_count.sql",
        "One artist per distinct staged artist id.",
        identifiers={"table": "artists", "key": "artist_id"},
    ),
    CheckSpec("time_row_count", "time", "time_row_count.sql", "One time row per distinct play start time."),
    CheckSpec(
        "songplays_name_their_song",
        "songs",
        "plays_name_their_song.sql",
        "Every matched play names a row of songs and that song's own artist_id, after every catalogue reload.",
        blocking=True,
    ),
    _orphans("songplays", "user_id", "users", "orphans_in_window.sql"),
    _orphans("songplays", "start_time", "time", "orphans_in_window.sql"),
    _orphans("songplays", "song_id", "songs", "orphans_in_window.sql"),
    _orphans("songplays", "artist_id", "artists", "orphans_in_window.sql"),
    _orphans("songs", "artist_id", "artists", "orphans.sql"),
    CheckSpec(
        "users_user_id_unique",
        "users",
        "duplicate_users_by_day.sql",
        "users.user_id is never repeated; a partition answers for the users seen that day.",
        blocking=True,
    ),
    _unique("songs", "song_id", "duplicate_keys.sql"),
    _unique("artists", "artist_id", "duplicate_keys.sql"),
    _unique("time", "start_time", "duplicate_keys_in_window.sql", day_column="start_time"),
    _unique("songplays", "songplay_id", "duplicate_keys_in_window.sql", day_column="start_time"),
)


#: What a check found: its violations and a line of detail (the first example, or the counts compared).
Outcome = tuple[int, str | None]
PASSED: Outcome = (0, None)


def _params(spec: CheckSpec, window: DayWindow | None) -> dict[str, SqlValue]:
    params: dict[str, SqlValue] = {name: Identifier(value) for name, value in spec.identifiers.items()}
    if window is not None:
        params.update(window.sql_params)
    return params


def evaluate_days(spec: CheckSpec, warehouse: Warehouse, window: DayWindow) -> dict[date, Outcome]:
    """One query for a daily asset's check: each day of ``window`` and what the check found that day (a day
    the query returns nothing for passed)."""
    found = {
        as_day(day): (int(violations or 0), detail)
        for day, violations, detail in warehouse.query(read_sql(SQL / spec.sql_file), _params(spec, window))
    }
    return {day: found.get(day, PASSED) for day in window.days}


def evaluate(spec: CheckSpec, warehouse: Warehouse, window: DayWindow | None) -> Outcome:
    """Run one check's SQL: ``(violations, detail)``, for a daily asset's check the window's total and the
    first day's detail that has violations. Tests call this directly on a corrupted warehouse."""
    if spec.asset in PARTITIONED_ASSETS:
        if window is None:
            raise ValueError(f"{spec.name} is a check of a daily asset: it needs a window")
        days = evaluate_days(spec, warehouse, window)
        failing = [outcome for outcome in days.values() if outcome[0]]
        return sum(violations for violations, _ in failing), next((detail for _, detail in failing), None)
    violations, detail = warehouse.query(read_sql(SQL / spec.sql_file), _params(spec, None))[0]
    return int(violations or 0), detail


#: An unpartitioned check's result as recorded on a partition Dagster planned it for (see `_build`).
_UNPARTITIONED_SCOPE = "the whole table: the result of this unpartitioned check, recorded on each partition of the run"


def _target(record: EventLogRecord) -> AssetCheckEvaluationTargetMaterializationData:
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
    )


def _latest_target(
    context: AssetCheckExecutionContext, asset: AssetKey
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The asset's latest materialization, which an unpartitioned check's result is about."""
    records = context.instance.fetch_materializations(AssetRecordsFilter(asset_key=asset), limit=1).records
    return _target(records[0]) if records else None


def _partition_targets(
    context: AssetCheckExecutionContext, asset: AssetKey, days: Sequence[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of each partition, which that partition's results are about (the UI shows
    a result as current only while it targets the partition's latest materialization)."""
    instance = context.instance
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset, DagsterEventType.ASSET_MATERIALIZATION, set(days)
    )
    if not latest:
        return {}
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset, storage_ids=list(latest.values())), limit=len(latest)
    ).records
    return {record.partition_key: _target(record) for record in records if record.partition_key is not None}


def _result(
    spec: CheckSpec,
    key: AssetCheckKey,
    outcome: Outcome,
    partition: str | None,
    target: AssetCheckEvaluationTargetMaterializationData | None,
    metadata: Mapping[str, object] | None = None,
) -> AssetCheckEvaluation:
    violations, detail = outcome
    return AssetCheckEvaluation(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=violations == 0,
        metadata={"violations": violations, **({"detail": detail} if detail else {}), **(metadata or {})},
        target_materialization_data=target,
        severity=AssetCheckSeverity.ERROR,
        description=detail if violations else None,
        blocking=spec.blocking,
        partition=partition,
    )


def _build(asset: str, specs: Sequence[CheckSpec]) -> AssetChecksDefinition:
    """One step runs every check of ``asset``: one Dagster step per asset instead of one per check (each
    step is a fixed cost: events written to the instance, a connection to the warehouse). Each check keeps
    its own name, results and blocking flag; a blocking check that fails still fails the step after all the
    asset's checks have reported, and stops the assets downstream.

    The step yields Dagster's `AssetCheckEvaluation` itself (an `AssetCheckResult` takes its partition from
    the step, and a ranged step has none): for a daily asset one per check and day, on that day's partition,
    which is what Dagster planned for the run (one planned execution per check and partition). For an
    unpartitioned asset, one result, without a partition; but Dagster 1.13 also plans the checks of
    unpartitioned assets once per partition of a partitioned run (`DagsterRun.
    get_resolved_partitions_subset_for_events` returns the run's partitions whatever the check's own
    partitions), and a planned execution that no event closes stays PLANNED for ever. The same result is
    therefore also recorded on each of those partitions, marked as the unpartitioned check's.
    """
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
    def _checks(context: AssetCheckExecutionContext, warehouse: Warehouse) -> Iterator[Output | AssetCheckEvaluation]:
        started = perf_counter()
        assets_def = context.op_execution_context.assets_def
        window = DayWindow.from_time_window(*context.partition_time_window) if partitioned else None
        if window is not None:
            targets = _partition_targets(context, AssetKey(asset), [day.isoformat() for day in window.days])
        else:
            target = _latest_target(context, AssetKey(asset))
            # The partitions Dagster planned these checks for, computed as Dagster computed them.
            planned = context.run.get_resolved_partitions_subset_for_events(None)
            planned_keys = list(planned.get_partition_keys()) if planned is not None else []
        failed: list[str] = []
        for key in sorted(context.selected_asset_check_keys, key=lambda key: key.name):
            spec = by_name[key.name]
            yield Output(None, output_name=assets_def.get_output_name_for_asset_check_key(key))
            if window is not None:
                for day, outcome in evaluate_days(spec, warehouse, window).items():
                    yield _result(spec, key, outcome, day.isoformat(), targets.get(day.isoformat()))
                    if outcome[0]:
                        failed.append(f"{spec.name} {day}: {outcome[0]} violations, {outcome[1]}")
            else:
                outcome = evaluate(spec, warehouse, None)
                for day in planned_keys:
                    yield _result(spec, key, outcome, day, target, {"scope": _UNPARTITIONED_SCOPE})
                yield _result(spec, key, outcome, None, target)
                if outcome[0]:
                    failed.append(f"{spec.name}: {outcome[0]} violations, {outcome[1]}")
        for failure in failed:
            context.log.error(f"check failed: {failure}")
        count = len(context.selected_asset_check_keys)
        checks = f"{count} check{'s' if count != 1 else ''}"
        checked = f"{asset} {window}: {checks} x {len(window.days)} days" if window else f"{asset}: {checks}"
        context.log.info(f"{checked}, {len(failed) or 'none'} failed, in {perf_counter() - started:.2f} s")

    return _checks


#: One multi-check per asset, in the order the assets first appear in CHECKS.
asset_checks: list[AssetChecksDefinition] = [
    _build(asset, [spec for spec in CHECKS if spec.asset == asset]) for asset in dict.fromkeys(s.asset for s in CHECKS)
]

#: For tests and tools: a check's spec by name.
CHECKS_BY_NAME: Mapping[str, CheckSpec] = {spec.name: spec for spec in CHECKS}
