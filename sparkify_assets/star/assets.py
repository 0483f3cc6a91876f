"""The star schema: fact `songplays`, dimensions `users`, `songs`, `artists`, `time` (SPEC.md, "Tables").

Each step runs one `.sql` file from `star/sql/` in one transaction. Dimensions are built before the
fact, so the fact's orphan-key checks see the dimensions of the same run.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from time import perf_counter
from typing import NamedTuple

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, asset, multi_asset

from sparkify_assets.metadata import (
    build_line,
    figures_per_day,
    partition_metadata,
    rows_per_day,
    table_metadata,
    window_metadata,
)
from sparkify_assets.partitions import DayWindow, daily_partitions, single_run_backfill
from sparkify_assets.retries import retry_transient_warehouse_errors
from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.sql import read_sql

SQL = Path(__file__).parent / "sql"

#: The first and last day of the plays already built: the days song_catalogue.sql re-matches, read in its own
#: transaction (after its lock on Redshift), so that they are the plays its re-match updates.
PLAY_DAYS = {
    "first_play_day": "SELECT MIN(CAST(start_time AS DATE)) FROM songplays",
    "last_play_day": "SELECT MAX(CAST(start_time AS DATE)) FROM songplays",
}
#: Plays that name a song once the catalogue has re-matched them.
_PLAYS_MATCHED = "SELECT COUNT(song_id) FROM songplays"
#: Per day of the window: plays, and plays matched to a song.
_PLAYS_PER_DAY = """
SELECT CAST(start_time AS DATE), COUNT(*), COUNT(song_id)
FROM songplays
WHERE start_time >= :start_day AND start_time < :after_end_day
GROUP BY CAST(start_time AS DATE)
"""
#: Per day of the window: the users its events name, which that day's partition upserts.
_USERS_PER_DAY = """
SELECT partition_day, COUNT(DISTINCT user_id)
FROM stg_events
WHERE partition_day BETWEEN :start_day AND :end_day AND user_id IS NOT NULL
GROUP BY partition_day
"""


class Built(NamedTuple):
    """What `build` did: the seconds it took, and the windows its statements ran over, one after the other."""

    seconds: float
    slices: list[DayWindow]


def build(
    warehouse: Warehouse,
    sql_file: str,
    window: DayWindow | None = None,
    read_first: Mapping[str, str] | None = None,
    sliced: bool = False,
) -> Built:
    """Run one file of `star/sql/` for the window (or for all data) in one transaction.
    ``read_first``: parameters the transaction reads before the file's statements (`Warehouse.run_script`);
    ``sliced``: the file's statements run once per slice of the window the warehouse sorts within its memory
    (`statement_windows`, which weighs the days by their staged events), in order."""
    started = perf_counter()
    with retry_transient_warehouse_errors():  # a concurrent run's transaction on the same tables
        warehouse.create_tables()  # a star asset may be the first this warehouse materializes
        slices = [] if window is None else warehouse.statement_windows(window) if sliced else [window]
        warehouse.run_script(read_sql(SQL / sql_file), {}, read_first, [part.sql_params for part in slices] or [{}])
    return Built(perf_counter() - started, slices)


def _window(context: AssetExecutionContext) -> DayWindow:
    return DayWindow.from_time_window(*context.partition_time_window)


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
    seconds = build(warehouse, "song_catalogue.sql", read_first=PLAY_DAYS).seconds
    artists, songs = table_metadata(warehouse, "artists"), table_metadata(warehouse, "songs")
    songs["plays_matched_to_a_song"] = int(warehouse.query(_PLAYS_MATCHED)[0][0])
    context.log.info(build_line("artists", artists["dagster/row_count"], seconds))
    context.log.info(build_line("songs", songs["dagster/row_count"], seconds))
    yield MaterializeResult(asset_key="artists", metadata=artists)
    yield MaterializeResult(asset_key="songs", metadata=songs)


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
    seconds = build(warehouse, "users.sql", window).seconds
    # A day's partition holds the users its events name (the rows it upserts); the table is counted whole.
    seen = figures_per_day(warehouse, _USERS_PER_DAY, window, (0,))
    partition_metadata(context, {day: {"dagster/row_count": users} for day, (users,) in seen.items()})
    metadata = table_metadata(warehouse, "users")
    context.log.info(build_line("users", metadata["dagster/row_count"], seconds, window, whole_table=True))
    users_in_table = metadata.pop("dagster/row_count")
    return MaterializeResult(
        metadata={**metadata, "run_window": str(window), "users_in_table_after_run": users_in_table}
    )


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
    seconds = build(warehouse, "time.sql", window).seconds
    rows = rows_per_day(warehouse, "time", "start_time", window)
    partition_metadata(context, {day: {"dagster/row_count": count} for day, count in rows.items()})
    context.log.info(build_line("time", sum(rows.values()), seconds, window))
    return MaterializeResult(metadata=window_metadata(warehouse, "time", window))


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
    # A play's songplay_id and song match depend on its own day's events only: the days can be built apart.
    seconds, slices = build(warehouse, "songplays.sql", window, sliced=True)
    if len(slices) > 1:
        lengths = sorted({len(part.days) for part in slices})
        days = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]} to {lengths[-1]}"
        context.log.info(
            f"songplays {window}: built in {len(slices)} statements of {days} days each, so that each sorts its "
            "plays within the warehouse's memory limit (SPARKIFY_DUCKDB_MEMORY_LIMIT on DuckDB)"
        )
    plays = figures_per_day(warehouse, _PLAYS_PER_DAY, window, (0, 0))
    partition_metadata(
        context,
        {
            day: {
                "dagster/row_count": count,
                "plays_matched_to_a_song": matched,
                "song_match_rate": round(matched / count, 4) if count else 0.0,
            }
            for day, (count, matched) in plays.items()
        },
    )
    context.log.info(build_line("songplays", sum(count for count, _ in plays.values()), seconds, window))
    return MaterializeResult(metadata=window_metadata(warehouse, "songplays", window))
