"""SPEC.md, "Tables" and "The invariant": a warehouse table laid out otherwise than the code creates it (left
by an older version of the project or by a DBA; CREATE TABLE IF NOT EXISTS keeps it) is never loaded into.
The staging step fails at once with TableLayoutMismatch, naming the table and the column, and the table
keeps its rows; a table in the expected layout loads as always."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sparkify_assets.warehouse.duckdb.engine import SQL as DUCKDB_SQL
from sparkify_assets.warehouse.duckdb.recording import RecordingDuckDBWarehouse
from sparkify_assets.warehouse.layout import TableLayoutMismatch, expected_tables, layout_query, verify_layout
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.engine import SQL as REDSHIFT_SQL
from sparkify_assets.warehouse.redshift.recording import catalogue_as_created
from sparkify_assets_tests.conftest import (
    assert_failed_at_once,
    duckdb_warehouse,
    month_range,
    resources_for,
    run_graph,
    step_events,
)

Columns = list[tuple[str, str]]


def columns_as_created(table: str) -> Columns:
    """``(name, type)`` of ``table`` as the DuckDB engine's create_tables.sql makes it."""
    (definition,) = [t for t in expected_tables(DUCKDB_SQL / "create_tables.sql") if t.name == table]
    return [(column.name, column.type) for column in definition.columns]


def swap(first: str, second: str) -> Callable[[Columns], Columns]:
    def drift(columns: Columns) -> Columns:
        names = [name for name, _ in columns]
        i, j = names.index(first), names.index(second)
        columns = list(columns)
        columns[i], columns[j] = columns[j], columns[i]
        return columns

    return drift


def add(name: str, kind: str) -> Callable[[Columns], Columns]:
    return lambda columns: [*columns, (name, kind)]


def retype(name: str, kind: str) -> Callable[[Columns], Columns]:
    return lambda columns: [(n, kind if n == name else k) for n, k in columns]


def drop(name: str) -> Callable[[Columns], Columns]:
    return lambda columns: [(n, k) for n, k in columns if n != name]


#: A row an older warehouse holds, by column name (every drift below keeps these columns).
OLD_ROWS = {
    "staging_events": {
        "artist": "Nirvana",
        "first_name": "Aleena",
        "last_name": "Kirby",
        "session_id": 237,
        "ts": 1541381242796,
        "source_key": "log_data/2018/11/2018-11-05-events.json",
        "partition_day": "2018-11-05",
    },
    "staging_songs": {
        "song_id": "SO1",
        "artist_latitude": 35.14968,
        "artist_longitude": -90.04892,
        "source_key": "song_data/",
    },
}


@dataclass(frozen=True)
class Drift:
    table: str
    change: Callable[[Columns], Columns]
    named: tuple[str, ...]  # what the failure says


DRIFTS = {
    "first and last name swapped": Drift(
        "staging_events",
        swap("first_name", "last_name"),
        ("columns in another order", "first_name is column 6, expected 3", "last_name is column 3, expected 6"),
    ),
    "latitude and longitude swapped": Drift(
        "staging_songs",
        swap("artist_latitude", "artist_longitude"),
        ("columns in another order", "artist_latitude is column 4, expected 3"),
    ),
    "an added column": Drift("staging_events", add("loaded_by", "VARCHAR"), ("extra column loaded_by VARCHAR",)),
    "a changed type": Drift(
        "staging_events", retype("session_id", "VARCHAR"), ("column session_id is VARCHAR, expected BIGINT",)
    ),
    "a missing column": Drift("staging_events", drop("user_agent"), ("missing column user_agent VARCHAR",)),
}


def older_warehouse(database: Path, table: str, columns: Columns) -> None:
    """A warehouse as the current code creates it, except ``table``: laid out as ``columns``, with a row."""
    duckdb_warehouse(database).create_tables()
    row = OLD_ROWS[table]
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"DROP TABLE {table}")
        connection.execute(f"CREATE TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in columns)})")
        connection.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
        )


def table_state(database: Path, table: str) -> tuple[list[Any], list[Any]]:
    """A table's columns (name, type, in order) and rows."""
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return columns, connection.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def materialize_staging(sample: Path, database: Path, table: str, raise_on_error: bool = False) -> Any:
    partition = month_range(sample)[0] if table == "staging_events" else None
    return run_graph(
        resources_for(sample, database), partition=partition, selection=[table], raise_on_error=raise_on_error
    )


@pytest.mark.parametrize("drift", DRIFTS.values(), ids=DRIFTS.keys())
def test_a_table_in_another_layout_fails_staging_at_once_naming_it_and_keeps_its_rows(
    drift: Drift, generated_sample: Path, tmp_path: Path
) -> None:
    database = tmp_path / "older.duckdb"
    older_warehouse(database, drift.table, drift.change(columns_as_created(drift.table)))
    before = table_state(database, drift.table)

    result = materialize_staging(generated_sample, database, drift.table)

    assert_failed_at_once(result, drift.table, f"table main.{drift.table} is not laid out as", *drift.named)
    (failure,) = step_events(result, "STEP_FAILURE")
    assert failure.event_specific_data.error.cause.cls_name == "TableLayoutMismatch"
    assert table_state(database, drift.table) == before


def test_the_expected_layout_loads_into_a_warehouse_that_has_rows(generated_sample: Path, tmp_path: Path) -> None:
    database = tmp_path / "current.duckdb"
    for table in ("staging_events", "staging_songs"):
        older_warehouse(database, table, columns_as_created(table))
        assert materialize_staging(generated_sample, database, table, raise_on_error=True).success
    # The old row is of another day than the one loaded: it stays, in its columns.
    kept = duckdb_warehouse(database).query("SELECT last_name FROM staging_events WHERE first_name = 'Aleena'")
    assert kept == [("Kirby",)]


def test_the_rebuild_the_error_gives_keeps_the_rows_by_column_name(generated_sample: Path, tmp_path: Path) -> None:
    """What the message says to run puts the swapped table right: each value in the column of its name."""
    database = tmp_path / "older.duckdb"
    older_warehouse(database, "staging_events", swap("first_name", "last_name")(columns_as_created("staging_events")))
    with pytest.raises(TableLayoutMismatch) as raised:
        duckdb_warehouse(database).create_tables()
    (mismatch,) = raised.value.mismatches
    assert mismatch.table == "staging_events"
    assert all(f"{statement};" in str(raised.value) for statement in mismatch.rebuild)

    with duckdb.connect(str(database)) as connection:
        connection.begin()
        for statement in mismatch.rebuild:
            connection.execute(statement)
        connection.commit()
    assert duckdb_warehouse(database).query("SELECT first_name, last_name FROM staging_events") == [("Aleena", "Kirby")]
    assert materialize_staging(generated_sample, database, "staging_events", raise_on_error=True).success


def test_the_tables_are_created_and_the_layout_read_once_a_run_not_once_a_step(
    generated_sample: Path, tmp_path: Path
) -> None:
    """Every step that writes (staging, star, analytics) asks for the tables; the first of a run creates them and
    queries the catalogue, the others find them ready (warehouse/engine.py, create_tables)."""
    log = StatementLog()
    resources = resources_for(generated_sample, tmp_path / "w.duckdb")
    resources["warehouse"] = RecordingDuckDBWarehouse(path=str(tmp_path / "w.duckdb"), recorder=log)
    assert run_graph(resources, partition=month_range(generated_sample)[0]).success
    steps = {statement.step for statement in log.statements}
    assert {"staging_events", "songplays", "daily_artist_plays"} <= steps  # several steps wrote
    assert sum(1 for sql in log.sql if sql.startswith("CREATE TABLE IF NOT EXISTS staging_events")) == 1
    assert log.sql.count(layout_query("main")) == 1


def test_both_engines_create_the_same_tables_and_columns_in_the_same_order_and_types() -> None:
    """One layout, written in each engine's DDL: the same names, order, types and VARCHAR widths (Redshift
    enforces the widths; on DuckDB the staging rules do, reading them from its DDL)."""

    def shape(sql: Path) -> dict[str, list[tuple[str, str, int | None]]]:
        tables = expected_tables(sql / "create_tables.sql")
        return {t.name: [(c.name, c.kind, c.width) for c in t.columns] for t in tables}

    assert shape(DUCKDB_SQL) == shape(REDSHIFT_SQL)


def test_redshift_spellings_and_varchar_widths_are_compared_as_redshift_reports_them() -> None:
    verify_layout("public", REDSHIFT_SQL / "create_tables.sql", catalogue_as_created())  # as created: passes
    narrower = [
        (table, column, kind, 128 if (table, column) == ("users", "first_name") else width)
        for table, column, kind, width in catalogue_as_created()
    ]
    narrowed = r"column first_name is character varying\(128\), expected VARCHAR\(256\)"
    with pytest.raises(TableLayoutMismatch, match=narrowed):
        verify_layout("public", REDSHIFT_SQL / "create_tables.sql", narrower)


def test_docs_list_the_varchar_widths_create_tables_declares() -> None:
    """docs/redshift.md, "VARCHAR widths": each SPEC.md table's widths, as create_tables.sql declares them."""
    docs = (Path(__file__).parents[2] / "docs" / "redshift.md").read_text(encoding="utf-8")
    section = docs.split("### VARCHAR widths", 1)[1].split("\n### ", 1)[0]
    listed = {
        row.group(1): {name: int(width) for name, width in re.findall(r"`(\w+)`(?: \(`\w+`\))? (\d+)", row.group(2))}
        for row in re.finditer(r"^\| `(\w+)` \| (.+) \|$", section, re.MULTILINE)
    }
    declared = {
        t.name: {c.name: c.width for c in t.columns if c.width}
        for t in expected_tables(REDSHIFT_SQL / "create_tables.sql")
    }
    assert listed and all(listed[table] == declared[table] for table in listed)
    assert {"staging_events", "staging_songs", "songplays", "users", "songs", "artists"} <= set(listed)
