"""The reference build: the same warehouse in plain DuckDB SQL, with no orchestration.

This is what the Dagster graph is measured against (`bench/run.py`): the project's own DDL
(`warehouse/duckdb/sql`, `staging/sql`, `warehouse/sql`), staging read by DuckDB's own readers in two statements
(`reference_build.sql`), then the project's own star SQL (`star/sql`) over the whole month at once, songplays
in slices of days as the warehouse builds it under the same memory_limit (a month in one statement moves its
sort to disk: at 10M and 512MB it takes three times as long). No checks, no metadata, no per-file
bookkeeping, no bad-record handling, no Dagster: the fastest plain way to the same tables.

    python bench/reference.py --source DIR --database FILE [--memory-limit 1GB] [--threads N]

Prints one JSON line: seconds per phase and rows per table. The package is not imported (its
`__init__` loads the Dagster definitions, seconds of imports the reference does not need): the stdlib-only
helpers it shares (`warehouse/sql.py`, `sources/layout.py`, `day_window.py`, `warehouse/duckdb/memory.py`) are
loaded from their files.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

BENCH = Path(__file__).resolve().parent
PACKAGE = BENCH.parent / "sparkify_assets"
DUCKDB_SQL = PACKAGE / "warehouse" / "duckdb" / "sql"
STG_VIEWS_SQL = PACKAGE / "staging" / "sql" / "create_stg_views.sql"
STAR_VIEWS_SQL = PACKAGE / "warehouse" / "sql" / "create_star_views.sql"
STAR_SQL = PACKAGE / "star" / "sql"
#: The star steps in the graph's order: the song catalogue (artists and songs), then the daily tables.
STAR_STEPS = ("song_catalogue.sql", "users.sql", "time.sql", "songplays.sql")
PLAY_DAYS = "SELECT MIN(CAST(start_time AS DATE)), MAX(CAST(start_time AS DATE)) FROM songplays"
TABLES = ("staging_events", "staging_songs", "staging_rejects", "songplays", "users", "songs", "artists", "time")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


sql = _load("sql", PACKAGE / "warehouse" / "sql.py")
layout = _load("layout", PACKAGE / "sources" / "layout.py")
day_window = _load("day_window", PACKAGE / "day_window.py")
memory = _load("memory", PACKAGE / "warehouse" / "duckdb" / "memory.py")


def event_days(source: Path) -> list[date]:
    days = (layout.day_of_event_key(path.relative_to(source).as_posix()) for path in source.glob("log_data/*/*/*"))
    return sorted(day for day in days if day is not None)


def build(source: Path, database: Path, memory_limit: str, threads: int | None) -> dict[str, Any]:
    source = source.resolve()
    days = event_days(source)
    month = day_window.DayWindow(days[0], days[-1])
    window = month.sql_params
    config: dict[str, Any] = {"memory_limit": memory_limit, "temp_directory": f"{database}.tmp"}
    if threads:
        config["threads"] = threads
    phases: dict[str, float] = {}
    connection = duckdb.connect(str(database), config=config)
    try:

        def run(phase: str, text: str, params: dict[str, Any], slices: list[dict[str, Any]] | None = None) -> None:
            """The statements of ``text`` in one transaction, once per slice's parameters laid over ``params``."""
            started = time.perf_counter()
            connection.begin()
            for slice_params in slices or [{}]:
                for statement in sql.statements(text, {**params, **slice_params}):
                    connection.execute(statement)
            connection.commit()
            phases[phase] = round(time.perf_counter() - started, 3)

        # As the engine's create_tables: the tables, the engine's function, then the views that call it.
        ddl = "\n".join(
            sql.read_sql(path)
            for path in (
                DUCKDB_SQL / "create_tables.sql",
                DUCKDB_SQL / "create_functions.sql",
                STG_VIEWS_SQL,
                STAR_VIEWS_SQL,
            )
        )
        run("create", ddl, {})
        staging = {
            "root_length": len(str(source)),
            "events_glob": f"{source}/log_data/*/*/*-events.json",
            "songs_glob": f"{source}/song_data/*/*/*/*.json",
        }
        run("staging", sql.read_sql(BENCH / "reference_build.sql"), staging)
        for step in STAR_STEPS:
            params, slices = dict(window), None
            if step == "song_catalogue.sql":  # the days of the plays already built (star/assets.py, PLAY_DAYS)
                first, last = connection.execute(PLAY_DAYS).fetchall()[0]
                params.update(first_play_day=first, last_play_day=last)
            if step == "songplays.sql":  # days sliced as the warehouse slices them, for the same memory_limit
                (count_events,) = sql.statements(memory.STAGED_EVENTS_PER_DAY, window)
                events = dict(connection.execute(count_events).fetchall())
                parts = month.slices(events, memory.events_per_statement(memory_limit))
                slices = [part.sql_params for part in parts]
            run(step.removesuffix(".sql"), sql.read_sql(STAR_SQL / step), params, slices)
        rows = {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}
    finally:
        started = time.perf_counter()
        connection.close()  # the checkpoint that writes the file
        phases["close"] = round(time.perf_counter() - started, 3)
    return {"phases": phases, "rows": rows, "days": [days[0].isoformat(), days[-1].isoformat()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(build(args.source, args.database, args.memory_limit, args.threads)))


if __name__ == "__main__":
    main()
