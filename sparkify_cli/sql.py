"""`sparkify sql`: print every statement a run would send to the warehouse, in order, without running it.

Like `dbt compile`, for review before a production run: the DDL, the staging loads (COPY on Redshift),
the star transforms and the checks of the whole graph for one partition, as the real engine code produces
them against a recording connection (`sql_plan.py`). Settings come from the environment as for a
run; no login setting or credential is needed, and none is printed.
"""

from __future__ import annotations

import argparse
import sys

from sparkify_assets.day_window import DayWindow


def _partition(text: str) -> str:
    try:
        return str(DayWindow.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=("redshift", "duckdb"),
        help="the warehouse engine (default: $SPARKIFY_WAREHOUSE, else duckdb)",
    )
    parser.add_argument(
        "--partition",
        type=_partition,
        metavar="YYYY-MM-DD",
        help="the day partition to plan (default: the newest partition: yesterday, UTC, or SPARKIFY_PARTITIONS_END; "
        "the plan's first line names the day)",
    )
    parser.add_argument(
        "--first-run",
        action="store_true",
        help="plan the first run on a new warehouse, which also creates the functions and views (default: a daily "
        "run, on a warehouse where an earlier run of this code created them)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        from sparkify_assets.partitions import daily_partitions, partitions_range_text
        from sparkify_assets.settings import warehouse_engine
        from sparkify_cli.sql_plan import record_run

        engine = args.engine or warehouse_engine()
        partition = args.partition or daily_partitions.get_last_partition_key()
        if partition is None or not daily_partitions.has_partition_key(partition):
            what = f"{partition} is not a partition" if partition else "no partition yet"
            raise ValueError(f"{what}: the partitions run from {partitions_range_text()}")
        recorded = record_run(engine, partition, first_run=args.first_run)
    except Exception as exc:  # a setting or the source: say which, without a traceback
        print(f"sparkify sql: {_root_cause(exc)}", file=sys.stderr)
        return 2
    print(f"-- sparkify sql --engine {engine} --partition {partition}")
    if not args.partition:
        print(f"-- (no --partition: the newest partition, {partition})")
    print("-- Every statement of a run of the whole graph for that day, in order; nothing was sent to a warehouse.")
    print(
        "-- The days of the plays song_catalogue re-matches, which it reads just before, are those of a "
        "warehouse whose tables hold no rows (NULL: none)."
    )
    if args.first_run:
        print("-- The first run on a new warehouse: it creates the tables, functions and views.")
    else:
        print(
            "-- A daily run: the warehouse holds the views an earlier run of this code created, so none is created "
            "(--first-run: a new warehouse)."
        )
    step: str | None = None
    for statement in recorded:
        if statement.step != step:
            step = statement.step
            print(f"\n-- step: {step}")
        print(f"\n{statement.sql};" if statement.kind == "sql" else f"\n-- {statement.sql}")
    return 0


def _root_cause(exc: BaseException) -> str:
    """The innermost error's message: Dagster wraps what a resource or a step raised."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc).split("\n\nStack Trace:")[0].strip() or type(exc).__name__
