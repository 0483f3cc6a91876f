"""`read_ahead`: the one read-ahead of source objects (day files read and split, song files fetched), which
bounds how many are in memory at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sparkify_assets.sources.read_ahead import THREAD_NAME, iterate_ahead, read_ahead


class Counted:
    """Work on items 0..n-1 that counts how many it has started; item ``fail_at`` raises instead."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at, self.started = fail_at, 0
        self.lock = threading.Lock()

    def __call__(self, item: int) -> int:
        with self.lock:
            self.started += 1
        if item == self.fail_at:
            raise ValueError(f"cannot read item {item}")
        return item


def items_failing_at(n: int, fail_at: int) -> Iterator[int]:
    for item in range(n):
        if item == fail_at:
            raise ValueError(f"cannot list item {item}")
        yield item


def read_ahead_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)]


@pytest.mark.parametrize(("workers", "ahead"), [(1, 1), (1, 2), (4, 8)])
def test_items_come_in_order_and_at_most_ahead_of_the_consumer(workers: int, ahead: int) -> None:
    work = Counted()
    seen = []
    for item in read_ahead(work, range(40), workers=workers, ahead=ahead):
        # Give the threads time to run as far ahead as they may, then check that they did not go further.
        threading.Event().wait(0.01)
        with work.lock:
            assert work.started <= item + 1 + ahead, (item, work.started)
        seen.append(item)
    assert seen == list(range(40))


def test_a_work_error_is_raised_at_its_turn() -> None:
    seen = []
    with pytest.raises(ValueError, match="cannot read item 3"):
        for item in read_ahead(Counted(fail_at=3), range(10)):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_an_error_of_the_items_is_raised_at_its_turn_after_the_results_before_it() -> None:
    seen = []
    with pytest.raises(ValueError, match="cannot list item 3"):
        for item in read_ahead(Counted(), items_failing_at(10, fail_at=3)):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_stopping_early_stops_the_threads() -> None:
    work = Counted()
    for item in read_ahead(work, range(1000)):
        if item == 2:
            break
    assert work.started <= 4  # the items taken, the one being computed, no more
    assert not read_ahead_threads()


def test_chained_read_aheads_keep_the_order_and_each_bound() -> None:
    """As in the DuckDB staging load: day files read one ahead, each split one ahead of the one parsed."""
    read, split = Counted(), Counted()
    seen = []
    for item in read_ahead(split, read_ahead(read, range(20))):
        threading.Event().wait(0.01)
        with read.lock, split.lock:
            assert split.started <= item + 2 and read.started <= item + 3, (item, split.started, read.started)
        seen.append(item)
    assert seen == list(range(20))
    assert not read_ahead_threads()


# -- iterate_ahead: an iterator run in a thread of its own ---------------------------------------------------
def test_iterate_ahead_gives_every_item_in_order_from_another_thread_and_raises_at_its_turn() -> None:
    threads: list[str] = []

    def produce() -> Iterator[int]:
        for item in range(6):
            threads.append(threading.current_thread().name)
            if item == 4:
                raise ValueError("cannot read item 4")
            yield item

    got = []
    with pytest.raises(ValueError, match="cannot read item 4"):
        for item in iterate_ahead(produce()):
            got.append(item)
    assert got == [0, 1, 2, 3]
    assert threads and all(name.startswith(THREAD_NAME) for name in threads)


def test_iterate_ahead_stays_a_bounded_number_of_items_ahead_and_stops_with_the_consumer() -> None:
    produced: list[int] = []
    settle = threading.Event()  # never set: a pause

    def produce() -> Iterator[int]:
        for item in range(1000):
            produced.append(item)
            yield item

    items = iterate_ahead(produce(), ahead=1)
    assert next(items) == 0
    settle.wait(0.3)  # time for the producer to run ahead as far as it may
    # The consumer holds item 0; one item waits in the hand-off and one is produced, blocked on it.
    assert len(produced) <= 3
    items.close()  # the consumer stops: the producer thread ends instead of producing the rest
    assert len(produced) <= 4
    assert not any(thread.name.endswith("-iterate") for thread in threading.enumerate())
