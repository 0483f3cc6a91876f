"""A do-nothing Dagster project of the project's shape: Dagster's own floor for `bench/run.py`.

The same assets as the part of the graph the benchmark builds (staging and star: 7 assets, 4 of them daily
partitioned with a single-run backfill policy, `songs` and `artists` from one multi-asset), the same
dependencies and groups, the same 18 asset checks in one multi-asset check per asset with the same names and
blocking flags, the in-process executor, and no resources. Every step returns at once. What
`dagster asset materialize -f bench/replica.py` costs over a month is what Dagster itself costs for a run of
that shape; the project over an empty month against it is what the project adds whatever the data.
`sparkify_assets_tests/test_bench_replica.py` checks that the shape stays the project's.

Imports nothing but Dagster (the project's own imports, dagster-aws among them, are part of its cost).
"""

import os
from collections.abc import Iterator

from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetChecksDefinition,
    AssetCheckSpec,
    AssetSpec,
    BackfillPolicy,
    DailyPartitionsDefinition,
    Definitions,
    MaterializeResult,
    Output,
    asset,
    in_process_executor,
    multi_asset,
    multi_asset_check,
)

daily = DailyPartitionsDefinition(start_date=os.environ.get("SPARKIFY_PARTITIONS_START", "2018-11-01"), timezone="UTC")
single_run = BackfillPolicy.single_run()

#: The checks of each asset, (name, blocking), as the project's `checks/definitions.py` declares them.
CHECKS: dict[str, list[tuple[str, bool]]] = {
    "staging_events": [("staging_events_records_reconciled", False)],
    "staging_songs": [("staging_songs_records_reconciled", False)],
    "songs": [
        ("songs_row_count", False),
        ("songplays_name_their_song", True),
        ("songs_artist_id_orphans", True),
        ("songs_song_id_unique", True),
    ],
    "artists": [("artists_row_count", False), ("artists_artist_id_unique", True)],
    "users": [("users_row_count", False), ("users_user_id_unique", True)],
    "time": [("time_row_count", False), ("time_start_time_unique", True)],
    "songplays": [
        ("songplays_row_count", False),
        ("songplays_user_id_orphans", True),
        ("songplays_start_time_orphans", True),
        ("songplays_song_id_orphans", True),
        ("songplays_artist_id_orphans", True),
        ("songplays_songplay_id_unique", True),
    ],
}


@asset(group_name="staging", partitions_def=daily, backfill_policy=single_run)
def staging_events() -> MaterializeResult:
    return MaterializeResult()


@asset(group_name="staging", backfill_policy=single_run)
def staging_songs() -> MaterializeResult:
    return MaterializeResult()


@multi_asset(
    specs=[
        AssetSpec("artists", group_name="star", deps=["staging_songs"]),
        AssetSpec("songs", group_name="star", deps=["staging_songs", "artists"]),
    ],
    backfill_policy=single_run,
)
def song_catalogue() -> Iterator[MaterializeResult]:
    yield MaterializeResult(asset_key="artists")
    yield MaterializeResult(asset_key="songs")


@asset(group_name="star", deps=["staging_events"], partitions_def=daily, backfill_policy=single_run)
def users() -> MaterializeResult:
    return MaterializeResult()


@asset(group_name="star", deps=["staging_events"], partitions_def=daily, backfill_policy=single_run)
def time() -> MaterializeResult:
    return MaterializeResult()


@asset(
    group_name="star",
    deps=["staging_events", "songs", "artists", users, time],
    partitions_def=daily,
    backfill_policy=single_run,
)
def songplays() -> MaterializeResult:
    return MaterializeResult()


PARTITIONED = {"staging_events", "users", "time", "songplays"}


def _checks(asset_name: str, checks: list[tuple[str, bool]]) -> AssetChecksDefinition:
    """The asset's checks in one step, each passing, with the events the project's checks write (and
    Dagster needs, to close the executions it planned): for a daily asset one result per check and day;
    for an unpartitioned one, one result per partition of the run (Dagster plans them there too) and one
    without a partition."""
    partitioned = asset_name in PARTITIONED

    @multi_asset_check(
        name=f"{asset_name}_checks",
        specs=[
            AssetCheckSpec(name, asset=asset_name, blocking=blocking, partitions_def=daily if partitioned else None)
            for name, blocking in checks
        ],
        can_subset=True,
    )
    def _evaluate(context: AssetCheckExecutionContext) -> Iterator[Output | AssetCheckEvaluation]:
        assets_def = context.op_execution_context.assets_def
        if partitioned:
            days: list[str | None] = list(context.partition_keys)
        else:
            planned = context.run.get_resolved_partitions_subset_for_events(None)
            days = [*(planned.get_partition_keys() if planned is not None else []), None]
        for key in sorted(context.selected_asset_check_keys, key=lambda key: key.name):
            yield Output(None, output_name=assets_def.get_output_name_for_asset_check_key(key))
            for day in days:
                yield AssetCheckEvaluation(
                    asset_key=key.asset_key, check_name=key.name, passed=True, metadata={}, partition=day
                )

    return _evaluate


defs = Definitions(
    assets=[staging_events, staging_songs, song_catalogue, users, time, songplays],
    asset_checks=[_checks(asset_name, checks) for asset_name, checks in CHECKS.items()],
    executor=in_process_executor,
)
