"""`in_background`: the DuckDB engine's read-ahead of day files, which bounds how many are in memory at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sparkify_assets.warehouse.duckdb.engine import in_background


class Counted:
    """Items 0..n-1, counting how many have been computed; item ``fail_at`` raises instead."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.computed = n, fail_at, 0
        self.lock = threading.Lock()

    def __iter__(self) -> Iterator[int]:
        for item in range(self.n):
            if item == self.fail_at:
                raise ValueError(f"cannot read item {item}")
            with self.lock:
                self.computed += 1
            yield item


@pytest.mark.parametrize("ahead", [1, 2])
def test_items_come_in_order_and_at_most_ahead_of_the_consumer(ahead: int) -> None:
    items = Counted(20)
    seen = []
    for item in in_background(iter(items), ahead=ahead):
        # Give the producer time to run as far ahead as it may, then check that it did not go further.
        threading.Event().wait(0.01)
        with items.lock:
            assert items.computed <= item + 1 + ahead, (item, items.computed)
        seen.append(item)
    assert seen == list(range(20))


def test_a_producer_error_is_raised_at_its_turn() -> None:
    seen = []
    with pytest.raises(ValueError, match="cannot read item 3"):
        for item in in_background(iter(Counted(10, fail_at=3)), ahead=1):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_stopping_early_stops_the_producer() -> None:
    items = Counted(1000)
    for item in in_background(iter(items), ahead=1):
        if item == 2:
            break
    threading.Event().wait(0.05)
    assert items.computed <= 4  # the items taken, the one being computed, no more
    assert not [t for t in threading.enumerate() if t.name == "sparkify-split"]
