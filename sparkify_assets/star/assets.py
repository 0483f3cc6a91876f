"""The star schema: fact `songplays`, dimensions `users`, `songs`, `artists`, `time` (SPEC.md, "Tables").

Each step runs one `.sql` file from `star/sql/` in one transaction. Dimensions are built before the
fact, so the fact's orphan-key checks see the dimensions of the same run.
"""

from collections.abc import Iterator
from pathlib import Path
from time import perf_counter
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, asset, multi_asset

from sparkify_assets.metadata import build_line, table_metadata
from sparkify_assets.partitions import DayWindow, daily_partitions, single_run_backfill
from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.sql import read_sql

SQL = Path(__file__).parent / "sql"

_MATCH_RATE = """
SELECT COUNT(*), COUNT(song_id)
FROM songplays
WHERE start_time >= :start_day AND start_time < :after_end_day
"""
_USERS_IN_WINDOW = """
SELECT COUNT(DISTINCT user_id)
FROM stg_events
WHERE partition_day BETWEEN :start_day AND :end_day AND user_id IS NOT NULL
"""


def build(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    model: str,
    window: DayWindow | None = None,
    window_column: str | None = None,
) -> dict[str, Any]:
    """Run `star/sql/<model>.sql` for the window (or for all data) in one transaction.

    Returns the table's metadata (rows of the window when there is a ``window_column``) and logs a
    progress line with those rows and the seconds it took.
    """
    started = perf_counter()
    warehouse.create_tables()  # a star asset may be the first this warehouse materializes
    warehouse.run_script(read_sql(SQL / f"{model}.sql"), window.sql_params if window else {})
    metadata = table_metadata(warehouse, model, window if window_column else None, window_column)
    context.log.info(build_line(model, metadata, perf_counter() - started, window))
    return metadata


def _window(context: AssetExecutionContext) -> DayWindow:
    return DayWindow.from_time_window(*context.partition_time_window)


#: Plays that name a song once the catalogue has re-matched them.
_PLAYS_MATCHED = "SELECT COUNT(song_id) FROM songplays"


@multi_asset(
    specs=[
        AssetSpec(
            "artists",
            group_name="star",
            deps=["staging_songs"],
            kinds={"sql"},
            description="One row per artist_id; one deterministic record where an artist's songs disagree.",
        ),
        AssetSpec(
            "songs",
            group_name="star",
            deps=["staging_songs", "artists"],
            kinds={"sql"},
            description="One row per song_id; year 0 (unknown) becomes NULL.",
        ),
    ],
    backfill_policy=single_run_backfill,
    can_subset=False,
)
def song_catalogue(context: AssetExecutionContext, warehouse: Warehouse) -> Iterator[MaterializeResult]:
    """The song catalogue: artists and songs, built together in one transaction with the re-match of every
    play already built (star/sql/song_catalogue.sql), so the dimensions never disagree with each other or
    with the fact, whichever of them is selected."""
    started = perf_counter()
    warehouse.create_tables()
    warehouse.run_script(read_sql(SQL / "song_catalogue.sql"), {})
    seconds = perf_counter() - started
    for table in ("artists", "songs"):
        metadata = table_metadata(warehouse, table)
        context.log.info(build_line(table, metadata, seconds))
        if table == "songs":
            metadata["plays_matched_to_a_song"] = int(warehouse.query(_PLAYS_MATCHED)[0][0])
        yield MaterializeResult(asset_key=table, metadata=metadata)


@asset(
    group_name="star",
    deps=["staging_events"],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    kinds={"sql"},
)
def users(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """One row per user; every column from the user's latest event by ts. A day upserts the users it saw."""
    window = _window(context)
    metadata = build(context, warehouse, "users", window)
    seen = warehouse.query(_USERS_IN_WINDOW, window.sql_params)[0][0]
    return MaterializeResult(metadata={**metadata, "users_upserted": int(seen)})


@asset(
    group_name="star",
    deps=["staging_events"],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    kinds={"sql"},
)
def time(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """One row per distinct play start_time, broken into hour, day, ISO week, month, year, weekday."""
    window = _window(context)
    return MaterializeResult(metadata=build(context, warehouse, "time", window, "start_time"))


@asset(
    group_name="star",
    deps=["staging_events", "songs", "artists", users, time],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    kinds={"sql"},
)
def songplays(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """One row per NextSong event, matched to a song and artist where SPEC.md's rule finds one."""
    window = _window(context)
    metadata = build(context, warehouse, "songplays", window, "start_time")
    plays, matched = warehouse.query(_MATCH_RATE, window.sql_params)[0]
    metadata["plays_matched_to_a_song"] = int(matched)
    metadata["song_match_rate"] = round(matched / plays, 4) if plays else 0.0
    return MaterializeResult(metadata=metadata)
