"""The retry the star and analytics steps ask for: on a transient warehouse error only, on the staging terms.
(The whole of it, a step aborted with Redshift's error 1023 and run again: warehouse/redshift/test_engine.py.)"""

from __future__ import annotations

import pytest
from dagster import RetryRequested

from sparkify_assets.retries import LOAD_RETRY_POLICY, retry_transient_warehouse_errors
from sparkify_assets.warehouse.engine import TransientWarehouseError


def test_a_transient_warehouse_error_asks_for_a_retry_on_the_staging_terms() -> None:
    with pytest.raises(RetryRequested) as raised, retry_transient_warehouse_errors():
        raise TransientWarehouseError("error 1023")
    assert (raised.value.max_retries, raised.value.seconds_to_wait) == (
        LOAD_RETRY_POLICY.max_retries,
        LOAD_RETRY_POLICY.delay,
    )
    assert isinstance(raised.value.__cause__, TransientWarehouseError)


def test_any_other_error_passes_unchanged() -> None:
    with pytest.raises(ValueError, match="a bug in the SQL"), retry_transient_warehouse_errors():
        raise ValueError("a bug in the SQL")
