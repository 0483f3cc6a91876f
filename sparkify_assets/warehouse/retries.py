"""Running a step again when the warehouse aborted its transaction for a reason of the moment.

The staging assets' RetryPolicy (`LOAD_RETRY_POLICY`) already retries such an error; the star and analytics
steps have no policy (an error in their SQL is not fixed by running it again), so they ask Dagster for a retry
of this one kind of error only, on the same terms.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import RetryRequested

from sparkify_assets.staging.assets import LOAD_RETRY_POLICY
from sparkify_assets.warehouse.engine import TransientWarehouseError


@contextmanager
def retry_transient_warehouse_errors() -> Iterator[None]:
    """Turn a TransientWarehouseError (Redshift's error 1023, a concurrent run's doing) into a request to run the
    step again, as often and as soon as the staging assets' RetryPolicy would; every other error passes."""
    try:
        yield
    except TransientWarehouseError as exc:
        raise RetryRequested(
            max_retries=LOAD_RETRY_POLICY.max_retries, seconds_to_wait=LOAD_RETRY_POLICY.delay
        ) from exc
