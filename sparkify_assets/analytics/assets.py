"""Analytics: one daily table per dashboard area, built from the star schema by SQL in `analytics/sql/`.

Each table is described once (`DashboardTable`, which names its SQL files) and built by the same asset
body: run its build SQL for the run's window in one transaction (it creates the table if needed, deletes
the window's days and inserts them again), then read its figures SQL to put each day's figures (and
rows) in that day's partition metadata, so the UI plots them per partition even when one run covers a
month; the Markdown preview, shared by the run's partitions, is named as the run window's.
The SQL is engine-neutral (see `sql/*.sql` for what each figure means).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from time import perf_counter
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset

from sparkify_assets.metadata import build_line, partition_metadata, rows_per_day, window_metadata
from sparkify_assets.partitions import DayWindow, daily_partitions, single_run_backfill
from sparkify_assets.retries import retry_transient_warehouse_errors
from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.sql import read_sql

SQL = Path(__file__).parent / "sql"

#: The Markdown preview shows at most this many days (a month's backfill fits).
PREVIEW_DAYS = 31


@dataclass(frozen=True)
class DashboardTable:
    """One analytics table: the dashboard area it answers, what it reads, and the figures it reports."""

    name: str
    area: str
    description: str
    deps: tuple[str, ...]
    #: The file in `sql/` that builds the window's days of the table.
    build_sql: str
    #: The file in `sql/` whose columns after partition_day are each day's metadata, in this order.
    figures_sql: str
    figures: tuple[str, ...]
    #: Those of the figures that are text (a name), not numbers to plot.
    labels: tuple[str, ...] = ()
    #: An optional file in `sql/` for the preview, and its column headers; otherwise the preview is the figures.
    preview_sql: str | None = None
    preview_columns: tuple[str, ...] = ()


DASHBOARD_TABLES: tuple[DashboardTable, ...] = (
    DashboardTable(
        name="daily_user_activity",
        build_sql="daily_user_activity.sql",
        figures_sql="daily_user_activity_figures.sql",
        area="Acquiring and retaining users",
        description=(
            "Per day: active users (with a play), new users (first play in the warehouse) and returning "
            "ones, paid and free users (level of their last play of the day), conversions from free to paid "
            "and downgrades back."
        ),
        deps=("songplays",),
        figures=(
            "active_users",
            "new_users",
            "returning_users",
            "paid_users",
            "free_users",
            "conversions_to_paid",
            "downgrades_to_free",
        ),
    ),
    DashboardTable(
        name="daily_catalogue_coverage",
        build_sql="daily_catalogue_coverage.sql",
        figures_sql="daily_catalogue_coverage_figures.sql",
        area="Growing the song catalogue",
        description=(
            "Per day: plays, plays matched to a known song and their share, distinct songs and artists "
            "played, and the songs and artists the catalogue knew when the day was built."
        ),
        deps=("songplays", "songs", "artists"),
        figures=(
            "plays",
            "matched_plays",
            "match_share",
            "songs_played",
            "artists_played",
            "songs_known",
            "artists_known",
        ),
    ),
    DashboardTable(
        name="daily_artist_plays",
        build_sql="daily_artist_plays.sql",
        figures_sql="daily_artist_plays_figures.sql",
        area="Artists",
        description=(
            "Per day and artist played (the event's artist name, linked to the catalogue's artist_id where "
            "known): plays, listeners and the artist's rank that day. Top artists: rank_in_day <= 10."
        ),
        deps=("staging_events", "artists"),
        figures=("artists_played", "artists_in_catalogue", "top_artist_plays", "top_artist"),
        labels=("top_artist",),
        preview_sql="daily_artist_plays_preview.sql",
        preview_columns=("artist", "artist_id", "plays", "days played"),
    ),
    DashboardTable(
        name="daily_engagement",
        build_sql="daily_engagement.sql",
        figures_sql="daily_engagement_figures.sql",
        area="Daily engagement",
        description=(
            "Per day: plays, active users, plays per user (and the most by one user), sessions, plays per "
            "session, and the average and longest session in minutes."
        ),
        deps=("songplays",),
        figures=(
            "plays",
            "active_users",
            "plays_per_user",
            "max_plays_by_one_user",
            "sessions",
            "plays_per_session",
            "avg_session_minutes",
            "longest_session_minutes",
        ),
    ),
)


def daily_figures(warehouse: Warehouse, table: DashboardTable, window: DayWindow) -> dict[date, dict[str, Any]]:
    """Each day's figures; a day without plays has no row in the table and gets zeros."""
    rows = warehouse.query(read_sql(SQL / table.figures_sql), window.sql_params)
    found = {_day(row[0]): dict(zip(table.figures, map(_figure, row[1:]), strict=True)) for row in rows}
    zeros = {name: "" if name in table.labels else 0 for name in table.figures}
    return {day: found.get(day, zeros) for day in window.days}


def preview(warehouse: Warehouse, table: DashboardTable, window: DayWindow, figures: Mapping[date, Any]) -> str:
    """The Markdown preview of a materialization: the table's own preview query, or the figures by day."""
    if table.preview_sql:
        rows: Sequence[Sequence[Any]] = warehouse.query(read_sql(SQL / table.preview_sql), window.sql_params)
        return _markdown(table.preview_columns, rows)
    days = sorted(figures)[-PREVIEW_DAYS:]
    return _markdown(("day", *table.figures), [(day, *figures[day].values()) for day in days])


def _build(table: DashboardTable) -> AssetsDefinition:
    @asset(
        name=table.name,
        group_name="analytics",
        description=f"{table.area}. {table.description}",
        deps=list(table.deps),
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        kinds={"sql"},
    )
    def _asset(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        window = DayWindow.from_time_window(*context.partition_time_window)
        started = perf_counter()
        with retry_transient_warehouse_errors():  # a concurrent run's transaction on the same tables
            warehouse.create_tables()  # the star tables it reads exist even on a warehouse where nothing else ran
            warehouse.run_script(read_sql(SQL / table.build_sql), window.sql_params)
        figures = daily_figures(warehouse, table, window)
        rows = rows_per_day(warehouse, table.name, "partition_day", window)
        partition_metadata(context, {day: {"dagster/row_count": rows[day], **figures[day]} for day in window.days})
        # Shared by the run's partitions, and named as the run's: the preview covers the run's window.
        metadata: dict[str, Any] = window_metadata(warehouse, table.name, window)
        metadata["dashboard_area"] = table.area
        metadata["run_window_preview"] = MetadataValue.md(preview(warehouse, table, window, figures))
        context.log.info(build_line(table.name, sum(rows.values()), perf_counter() - started, window))
        return MaterializeResult(metadata=metadata)

    return _asset


analytics_assets: list[AssetsDefinition] = [_build(table) for table in DASHBOARD_TABLES]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _figure(value: Any) -> int | float | str:
    """A figure as metadata: integers stay integers, shares and averages are rounded to 4 places."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return round(float(value), 4)


def _markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "_No plays in this window._"
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")
