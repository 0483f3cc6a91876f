"""Staging: the source files as they are, one row a record (SPEC.md, "Tables"), bad records set aside."""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetExecutionContext, Failure, MaterializeResult, asset

from sparkify_assets.metadata import load_metadata, partition_metadata, rows_per_day, table_metadata, window_metadata
from sparkify_assets.partitions import DayWindow, daily_partitions, requested_by, single_run_backfill
from sparkify_assets.retries import LOAD_RETRY_POLICY
from sparkify_assets.sources.errors import SourceError, SourceObjectMissing, SourceUnreachable
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.layout import TableLayoutMismatch


@contextmanager
def permanent_errors_fail_at_once() -> Iterator[None]:
    """Turn a permanent SourceError, or a TableLayoutMismatch, into a Failure that the RetryPolicy does not
    retry (running the step again cannot fix data, settings, permissions or a table someone must rebuild);
    SourceUnreachable and other errors pass unchanged."""
    try:
        yield
    except SourceUnreachable:
        raise
    except SourceError as exc:
        raise Failure(str(exc), allow_retries=False) from None
    except TableLayoutMismatch as exc:
        raise Failure(str(exc), allow_retries=False) from exc  # the cause keeps the error's name


@asset(
    group_name="staging",
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    retry_policy=LOAD_RETRY_POLICY,
    kinds={"json", "sql"},
)
def staging_events(context: AssetExecutionContext, warehouse: Warehouse, source: SparkifySource) -> MaterializeResult:
    """One row per event of the day's log file `log_data/YYYY/MM/YYYY-MM-DD-events.json`.

    Re-materializing a day replaces exactly that day's rows and rejects, in one transaction.
    """
    window = DayWindow.from_time_window(*context.partition_time_window)
    with permanent_errors_fail_at_once():
        warehouse.create_tables()
        try:
            loads = warehouse.load_staging_events(source, window, context.log.info)
        except SourceObjectMissing as exc:  # one line first: the file, and why its day was asked for
            message = f"{exc}: not arrived yet; {window} was {requested_by(context.run.tags)}"
            context.log.error(message)
            raise SourceError(message) from None
    # Each day's own rows and its file's load figures on its partition; the run's window shared by all.
    rows = rows_per_day(warehouse, "staging_events", "partition_day", window)
    partition_metadata(
        context,
        {
            day: {"dagster/row_count": rows[day], **load_metadata([ld for ld in loads if ld.partition_day == day])}
            for day in window.days
        },
    )
    return MaterializeResult(metadata={**window_metadata(warehouse, "staging_events", window), "source": source.uri})


@asset(
    group_name="staging",
    # Not partitioned; the policy lets `--partition-range` select it together with the daily assets.
    backfill_policy=single_run_backfill,
    retry_policy=LOAD_RETRY_POLICY,
    kinds={"json", "sql"},
)
def staging_songs(context: AssetExecutionContext, warehouse: Warehouse, source: SparkifySource) -> MaterializeResult:
    """One row per song file under `song_data/` (the Million Song Dataset subset). Not partitioned."""
    with permanent_errors_fail_at_once():
        warehouse.create_tables()
        loads = warehouse.load_staging_songs(source, context.log.info)
    return MaterializeResult(
        metadata={
            **table_metadata(warehouse, "staging_songs"),
            **load_metadata(loads),
            "source": source.uri,
        }
    )
