"""Per-item work spread over the machine's cores in a process pool, results in input order."""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import sys
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items a pool costs more than it saves: its processes start a fresh Python
# and import the readers (~0.5 s) before the first item.
MIN_ITEMS = 256


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context() -> Any:
    # Never "fork": the parent may hold threads (the app, the tokenizer's, ONNX Runtime's),
    # and a forked copy of a lock held by one of them deadlocks the child. "spawn", not
    # "forkserver": workers are then this process's children, so their CPU time is counted.
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Workers started in this block do not import the parent's `__main__` script.

    They run only this package's functions; re-running a caller's script without a
    `__name__ == "__main__"` guard in every worker (multiprocessing's default) would be wrong.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _run_batch(fn: Callable[[T], R], batch: Sequence[T]) -> list[R]:
    return [fn(item) for item in batch]


class Pool:
    """A process pool started on first use, or nothing at all for one core or a few items.

    `map_in_order(fn, items, wanted)` yields (item, fn(item) or None) in the order of `items`,
    `fn` applied only to the items `wanted` accepts, in batches of `batch` per task so pickling
    is amortised, with two windows in flight (this process prepares the next window while the
    workers run the current one). `fn` must be a module-level function. If the pool cannot
    start or breaks (a worker killed), the rest runs in this process: same results.
    """

    def __init__(self, workers: int, *, batch: int = 64, window: int = 512) -> None:
        self.workers = workers
        self.batch = batch
        self.window = window
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._broken = workers <= 1

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, fn: Callable[[T], R], batch: list[T]) -> Any:
        if not self._broken and self._pool is None:
            try:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=_context()
                )
            except (OSError, ValueError, NotImplementedError):
                self._broken = True
        if self._pool is not None:
            try:
                with _main_hidden():  # workers start on submit
                    return self._pool.submit(_run_batch, fn, batch)
            except (BrokenProcessPool, RuntimeError):
                self._give_up()
        return None

    def _give_up(self) -> None:
        self._broken = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _results(self, fn: Callable[[T], R], batch: list[T], future: Any) -> list[R]:
        if future is not None:
            try:
                results: list[R] = future.result()
                return results
            except BrokenProcessPool:
                self._give_up()
        return _run_batch(fn, batch)

    def map_in_order(
        self, fn: Callable[[T], R], items: Iterable[T], wanted: Callable[[T], bool]
    ) -> Iterator[tuple[T, R | None]]:
        if self._broken:  # one core: no pool, no batching, nothing held back
            for item in items:
                yield item, fn(item) if wanted(item) else None
            return
        flight: deque[tuple[list[T], list[tuple[list[T], Any]]]] = deque()
        window: list[T] = []
        for item in items:
            window.append(item)
            if len(window) >= self.window:
                flight.append((window, self._send(fn, window, wanted)))
                window = []
                if len(flight) > 1:
                    yield from self._receive(fn, *flight.popleft(), wanted)
        if window:
            flight.append((window, self._send(fn, window, wanted)))
        while flight:
            yield from self._receive(fn, *flight.popleft(), wanted)

    def _send(
        self, fn: Callable[[T], R], window: list[T], wanted: Callable[[T], bool]
    ) -> list[tuple[list[T], Any]]:
        todo = [item for item in window if wanted(item)]
        batches = [todo[i : i + self.batch] for i in range(0, len(todo), self.batch)]
        return [(b, self._submit(fn, b)) for b in batches]

    def _receive(
        self,
        fn: Callable[[T], R],
        window: list[T],
        sent: list[tuple[list[T], Any]],
        wanted: Callable[[T], bool],
    ) -> Iterator[tuple[T, R | None]]:
        done = iter([r for batch, future in sent for r in self._results(fn, batch, future)])
        for item in window:
            yield item, next(done) if wanted(item) else None


def pool_for(items: int, workers: int | None = None) -> Pool:
    """A Pool of `workers` (default: every core), or a serial one for fewer than MIN_ITEMS."""
    n = cores() if workers is None else workers
    return Pool(n if workers is not None or items >= MIN_ITEMS else 1)
