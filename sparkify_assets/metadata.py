"""Materialization metadata every warehouse table records: name, schema, row count, load counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema

from sparkify_assets.partitions import DayWindow
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Warehouse
from sparkify_assets.warehouse.sql import Identifier, read_sql


def table_metadata(
    warehouse: Warehouse, table: str, window: DayWindow | None = None, window_column: str | None = None
) -> dict[str, Any]:
    """Dagster's standard table metadata; with a window, the row count is that of the window's days."""
    if window is not None and window_column is not None:
        sql = read_sql(SHARED_SQL / "count_rows_in_window.sql")
        params = {"table": Identifier(table), "column": Identifier(window_column), **window.sql_params}
    else:
        sql, params = read_sql(SHARED_SQL / "count_rows.sql"), {"table": Identifier(table)}
    row_count = int(warehouse.query(sql, params)[0][0])
    columns = warehouse.columns(table)
    metadata: dict[str, Any] = {
        "dagster/table_name": warehouse.qualified_name(table),
        "dagster/row_count": row_count,
        "dagster/column_schema": TableSchema(columns=[TableColumn(name, kind) for name, kind in columns]),
        "warehouse": warehouse.engine_name,
    }
    if window is not None:
        metadata["partition_window"] = str(window)
    return metadata


def build_line(table: str, metadata: Mapping[str, Any], seconds: float, window: DayWindow | None = None) -> str:
    """The progress line a star or analytics step logs: the rows it built and how long it took.

    With ``partition_window`` in the metadata the rows are those of the window's days; otherwise the
    table's (``users`` is upserted for a window, but counted whole).
    """
    rows = int(metadata["dagster/row_count"])
    if "partition_window" in metadata:
        rate = rows / max(seconds, 1e-9)
        return f"{table} {metadata['partition_window']}: {rows:,} rows in {seconds:.2f} s ({rate:,.0f} rows/s)"
    ran_for = f" {window}" if window is not None else ""
    return f"{table}{ran_for}: {rows:,} rows in the table after {seconds:.2f} s"


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
