"""When a step runs again: the staging loads' RetryPolicy, and the retry of a transient warehouse error that the
star and analytics steps ask for.

The star and analytics steps have no RetryPolicy (an error in their SQL is not fixed by running it again); a
warehouse transaction aborted for a reason of the moment (Redshift's error 1023, a concurrent run's doing) is,
so they ask Dagster to run them again for that error only, as often and as soon as the staging loads' policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Backoff, Jitter, RetryPolicy, RetryRequested

from sparkify_assets.warehouse.engine import TransientWarehouseError

#: The staging loads' policy. Retried: transient faults, that is S3 still throttled, failing (5xx) or unreachable
#: once boto3's own retries are spent (SourceUnreachable), and warehouse errors such as a dropped connection or
#: Redshift's error 1023. Each attempt is one transaction, so a retry repeats the load from scratch. Not
#: retried: every other source error (a missing day file or bucket, AccessDenied, bad credentials, a bad
#: SPARKIFY_SOURCE, COPY's prefix clash or wrong REGION) and a warehouse table laid out otherwise than the code
#: creates it, which fail the step at once (`staging/assets.py`, `permanent_errors_fail_at_once`).
LOAD_RETRY_POLICY = RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


@contextmanager
def retry_transient_warehouse_errors() -> Iterator[None]:
    """Turn a TransientWarehouseError into a request to run the step again, on LOAD_RETRY_POLICY's terms (its
    retries, its first delay); every other error passes."""
    try:
        yield
    except TransientWarehouseError as exc:
        raise RetryRequested(
            max_retries=LOAD_RETRY_POLICY.max_retries, seconds_to_wait=LOAD_RETRY_POLICY.delay
        ) from exc
