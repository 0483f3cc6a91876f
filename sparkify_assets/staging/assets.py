"""Staging: the source files as they are, one row a record (SPEC.md, "Tables"), bad records set aside."""

from dagster import AssetExecutionContext, Backoff, Failure, Jitter, MaterializeResult, RetryPolicy, asset

from sparkify_assets.metadata import load_metadata, table_metadata
from sparkify_assets.partitions import DayWindow, daily_partitions, single_run_backfill
from sparkify_assets.sources.errors import SourceObjectMissing
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import Warehouse

#: Transient faults (S3 throttling, a dropped warehouse connection) are retried; each attempt is one
#: transaction, so a retry repeats the load from scratch.
LOAD_RETRY_POLICY = RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


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
    warehouse.create_tables()
    try:
        loads = warehouse.load_staging_events(source, window, context.log.info)
    except SourceObjectMissing as exc:
        # Not transient: fail at once, naming the key.
        raise Failure(str(exc), allow_retries=False) from None
    return MaterializeResult(
        metadata={
            **table_metadata(warehouse, "staging_events", window, "partition_day"),
            **load_metadata(loads),
            "source": source.uri,
        }
    )


@asset(
    group_name="staging",
    # Not partitioned; the policy lets `--partition-range` select it together with the daily assets.
    backfill_policy=single_run_backfill,
    retry_policy=LOAD_RETRY_POLICY,
    kinds={"json", "sql"},
)
def staging_songs(context: AssetExecutionContext, warehouse: Warehouse, source: SparkifySource) -> MaterializeResult:
    """One row per song file under `song_data/` (the Million Song Dataset subset). Not partitioned."""
    warehouse.create_tables()
    loads = warehouse.load_staging_songs(source, context.log.info)
    return MaterializeResult(
        metadata={
            **table_metadata(warehouse, "staging_songs"),
            **load_metadata(loads),
            "source": source.uri,
        }
    )
