"""Reading ahead of the consumer: the next source objects are read (or split) in threads while the current
one is used. The one read-ahead of the project: `SparkifySource.read_each` (day files, one ahead),
`SparkifySource.read_many` (song files on S3, a pool of threads a bounded window ahead) go through
`read_ahead`; the DuckDB staging load (day files read and split a slice at a time while DuckDB parses the
slice before) through `iterate_ahead`.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: The name of the read-ahead threads (each also gets a number).
THREAD_NAME = "sparkify-read-ahead"


def read_ahead(work: Callable[[T], R], items: Iterable[T], *, workers: int = 1, ahead: int = 1) -> Iterator[R]:
    """``work(item)`` for each of ``items``, in order, computed by ``workers`` threads at most ``ahead`` items
    ahead of the one the consumer holds.

    With ``ahead=1`` one thread computes the next result while the consumer works on the current one, so
    memory holds two results at most (a day file's bytes and records are large). ``items`` is iterated in the
    consumer's thread and each item is let go once its worker has it, so read-aheads can be chained (split
    the files that `read_each` reads). An error, of ``work`` or of ``items``, is raised at its turn, after
    the results before it; when the consumer stops early, the work not yet started is dropped and the
    threads end with the work under way.
    """
    window: deque[Future[R]] = deque()
    iterator = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_NAME) as pool:
        try:
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                except Exception as exc:  # raised at its turn, after the results already under way
                    window.append(_failed(exc))
                    break
                window.append(pool.submit(work, item))
                del item  # held by its worker alone, not while this generator waits
                if len(window) > ahead:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:  # the consumer stopped early or a result raised
                future.cancel()


def _failed(error: Exception) -> Future[R]:
    future: Future[R] = Future()
    future.set_exception(error)
    return future


def iterate_ahead(items: Iterable[T], *, ahead: int = 1) -> Iterator[T]:
    """The items of ``items``, produced by a thread of their own at most ``ahead`` items ahead of the
    consumer: for an iterator whose every step is work (read a piece of a day file, cut and split a slice),
    which `read_ahead` would run in the consumer's thread. Memory holds the item the consumer has, ``ahead``
    waiting and the one being produced. An error of ``items`` is raised at its turn; when the consumer
    stops early, the thread ends after the item under way."""
    handoff: queue.Queue[tuple[bool, T | BaseException | None]] = queue.Queue(maxsize=ahead)
    stopped = threading.Event()

    def put(entry: tuple[bool, T | BaseException | None]) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((False, item)):
                    return
            put((True, None))
        except BaseException as exc:  # raised in the consumer's thread, at its turn
            put((True, exc))

    producer = threading.Thread(target=produce, name=f"{THREAD_NAME}-iterate", daemon=True)
    producer.start()
    try:
        while True:
            done, value = handoff.get()
            if done:
                if value is not None:
                    raise value  # type: ignore[misc]
                return
            yield value  # type: ignore[misc]
            del value
    finally:
        stopped.set()
        producer.join()
