"""Polling with a deadline, where boto3 has no waiter (Redshift Serverless, security-group cleanup)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sparkify_infra.errors import InfraError


def poll_until(
    check: Callable[[], tuple[bool, str]],
    what: str,
    timeout_s: float,
    delay_s: float,
    hint: str = "rerun the command to keep waiting",
) -> None:
    """Call ``check`` until it returns ``(True, _)``; on timeout, name ``what`` and the last status seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = check()
        if done:
            return
        if time.monotonic() >= deadline:
            raise InfraError(f"timed out after {timeout_s:g} s waiting for {what} (last status: {status}); {hint}")
        time.sleep(max(delay_s, 0.0))


def waiter_config(timeout_s: float, delay_s: float) -> dict[str, float | int]:
    """A boto3 WaiterConfig that polls every ``delay_s`` seconds for about ``timeout_s`` seconds."""
    delay = max(delay_s, 0.01)
    return {"Delay": delay, "MaxAttempts": max(1, math.ceil(timeout_s / delay))}
