"""`sparkify summary`: rows per table in the warehouse and how the latest run's checks went."""

from __future__ import annotations

import argparse

TABLES = ("staging_events", "staging_songs", "staging_rejects", "songplays", "users", "songs", "artists", "time")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-id", help="the run whose checks to report (default: the latest run)")


def run(args: argparse.Namespace) -> int:
    # Dagster and the warehouse code load here, not with the parser: `sparkify summary --help` stays instant.
    from dagster import build_resources

    from sparkify_assets.analytics.assets import DASHBOARD_TABLES
    from sparkify_assets.resources import RESOURCES_BY_WAREHOUSE
    from sparkify_assets.settings import warehouse_engine
    from sparkify_assets.warehouse.engine import SHARED_SQL
    from sparkify_assets.warehouse.sql import Identifier, read_sql

    # The dashboard tables; a warehouse built before they existed shows them as not built.
    analytics_tables = tuple(table.name for table in DASHBOARD_TABLES)
    with build_resources(RESOURCES_BY_WAREHOUSE[warehouse_engine()]()) as resources:
        warehouse = resources.warehouse
        rows = {
            table: warehouse.query(read_sql(SHARED_SQL / "count_rows.sql"), {"table": Identifier(table)})[0][0]
            for table in TABLES
        }
        analytics = {
            table: warehouse.query(read_sql(SHARED_SQL / "count_rows.sql"), {"table": Identifier(table)})[0][0]
            if warehouse.columns(table)
            else None
            for table in analytics_tables
        }
    width = max(map(len, TABLES + analytics_tables))
    print(f"\nWarehouse ({warehouse.engine_name})")
    for table, count in rows.items():
        print(f"  {table:<{width}}  {count:>12,}")
    print("Analytics (dashboard tables)")
    for table, count in analytics.items():
        print(f"  {table:<{width}}  {'not built' if count is None else f'{count:,}':>12}")
    return _report_checks(args.run_id)


def _report_checks(run_id: str | None) -> int:
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.get()
    runs = [instance.get_run_by_id(run_id)] if run_id else instance.get_runs(limit=1)
    if not runs or runs[0] is None:
        print("\nNo Dagster run found in DAGSTER_HOME.")
        return 1
    run = runs[0]
    evaluations = [
        record.event_log_entry.dagster_event.event_specific_data
        for record in instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    ]
    # A check of a daily asset has one result per partition of the run: it passed if every one did.
    failed_on: dict[str, list[str]] = {}
    for evaluation in evaluations:
        failed_on.setdefault(evaluation.check_name, [])
        if not evaluation.passed:
            failed_on[evaluation.check_name].append(evaluation.partition or "")
    failed = sorted(name for name, partitions in failed_on.items() if partitions)
    stats = instance.get_run_stats(run.run_id)
    took = f" in {stats.end_time - stats.start_time:,.1f} s" if stats.start_time and stats.end_time else ""
    checks = f"{len(failed_on) - len(failed)} of {len(failed_on)} checks passed"
    print(f"\nRun {run.run_id[:8]} {run.status.value}{took}: {checks} ({len(evaluations):,} results)")
    for name in failed:
        # Days for a daily asset's check; none for an unpartitioned one (its result without a partition failed).
        days = [] if "" in failed_on[name] else sorted(set(failed_on[name]))
        print(f"  FAILED {name}" + (f" on {', '.join(days[:5])}{' ...' if len(days) > 5 else ''}" if days else ""))
    return 0 if not failed and run.status.value == "SUCCESS" else 1
