"""Materialization metadata every warehouse table records: name, schema, row count, load counts.

A run of a daily asset covers a window of days (one day, or a month in one backfill run) and Dagster
records one materialization per day. Each day's figures go on that day's partition (`partition_metadata`,
through `context.add_asset_metadata(..., partition_key=...)`); what the window's partitions share is the
table's name and columns and `run_window`, the days the run built, never a figure of the whole window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from dagster import AssetExecutionContext, MetadataValue, TableColumn, TableSchema

from sparkify_assets.partitions import DayWindow
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Warehouse
from sparkify_assets.warehouse.sql import Identifier, SqlValue, read_sql


def table_facts(warehouse: Warehouse, table: str) -> dict[str, Any]:
    """Dagster's standard table name and column schema, and the engine."""
    columns = warehouse.columns(table)
    return {
        "dagster/table_name": warehouse.qualified_name(table),
        "dagster/column_schema": TableSchema(columns=[TableColumn(name, kind) for name, kind in columns]),
        "warehouse": warehouse.engine_name,
    }


def table_metadata(warehouse: Warehouse, table: str) -> dict[str, Any]:
    """An unpartitioned table's metadata: its facts and its row count."""
    row_count = int(warehouse.query(read_sql(SHARED_SQL / "count_rows.sql"), {"table": Identifier(table)})[0][0])
    return {**table_facts(warehouse, table), "dagster/row_count": row_count}


def window_metadata(warehouse: Warehouse, table: str, window: DayWindow) -> dict[str, Any]:
    """What every partition a run built shares: the table's facts and the days the run built."""
    return {**table_facts(warehouse, table), "run_window": str(window)}


def figures_per_day(
    warehouse: Warehouse,
    sql: str,
    window: DayWindow,
    empty: tuple[int, ...],
    params: Mapping[str, SqlValue] | None = None,
) -> dict[date, tuple[int, ...]]:
    """A query's ``(day, figure, ...)`` rows as each day of ``window``'s figures (``empty`` for a day it has no
    row for); the query takes the window's parameters, and ``params``."""
    rows = warehouse.query(sql, {**window.sql_params, **(params or {})})
    found = {as_day(row[0]): tuple(int(value or 0) for value in row[1:]) for row in rows}
    return {day: found.get(day, empty) for day in window.days}


def rows_per_day(warehouse: Warehouse, table: str, column: str, window: DayWindow) -> dict[date, int]:
    """Rows of ``table`` on each day of ``window`` by ``column`` (a date or timestamp); 0 for a day without."""
    sql, params = (
        read_sql(SHARED_SQL / "count_rows_per_day.sql"),
        {"table": Identifier(table), "column": Identifier(column)},
    )
    return {day: rows for day, (rows,) in figures_per_day(warehouse, sql, window, (0,), params).items()}


def partition_metadata(context: AssetExecutionContext, per_day: Mapping[date, Mapping[str, Any]]) -> None:
    """Each day's own metadata on that day's partition (a partition's own keys win over the run's)."""
    for day, metadata in per_day.items():
        context.add_asset_metadata(dict(metadata), partition_key=day.isoformat())


def build_line(
    table: str, rows: int, seconds: float, window: DayWindow | None = None, whole_table: bool = False
) -> str:
    """The progress line a star or analytics step logs: the rows it built and how long it took.

    With a ``window``, the rows are those of the window's days, unless ``whole_table`` (``users`` is
    upserted for a window, but counted whole); without one, the table's.
    """
    if window is not None and not whole_table:
        rate = rows / max(seconds, 1e-9)
        return f"{table} {window}: {rows:,} rows in {seconds:.2f} s ({rate:,.0f} rows/s)"
    ran_for = f" {window}" if window is not None else ""
    return f"{table}{ran_for}: {rows:,} rows in the table after {seconds:.2f} s"


def as_day(value: Any) -> date:
    """A day as the engine returns it (a date, or a timestamp or text on some drivers)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def load_metadata(loads: Sequence[FileLoad]) -> dict[str, Any]:
    """What a staging load read, loaded and rejected, in total and per file."""
    metadata: dict[str, Any] = {
        "files_read": len(loads),
        "records_read": sum(load.records for load in loads),
        "rows_loaded": sum(load.loaded for load in loads),
        "rows_rejected": sum(load.rejected for load in loads),
    }
    if 0 < len(loads) <= 62:
        lines = ["| source key | records | loaded | rejected |", "|---|---:|---:|---:|"]
        lines += [f"| {ld.source_key} | {ld.records} | {ld.loaded} | {ld.rejected} |" for ld in loads]
        metadata["files"] = MetadataValue.md("\n".join(lines))
    return metadata
