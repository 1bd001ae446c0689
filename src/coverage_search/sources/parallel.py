"""Per-item work spread over the machine's cores in a process pool, results in input order."""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items a pool costs more than it saves: each worker starts a fresh Python and
# imports the package (~0.6 CPU s) before its first item.
MIN_ITEMS = 1000
# Workers at most, whatever the core count: each is a Python with the parsers and the tokenizer
# loaded and a batch in hand, and a container on a many-core host may see every core.
MAX_WORKERS = 8
# Items in flight are also bounded by their bytes (a window closes at WINDOW_BYTES): a window of
# 512 PDFs of up to 50 MB each would otherwise sit in memory at once.
WINDOW_BYTES = 64 * 2**20
_TASK_CPU = [0.0]  # CPU seconds workers spent on this process's tasks (their startup excluded)


def cores() -> int:
    """The cores this process may run on: its CPU affinity, within a cgroup's CPU quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    try:  # cgroup v2: "<quota> <period>" or "max <period>"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="ascii").split()[:2]
        if quota != "max":
            count = min(count, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return count


def task_cpu_seconds() -> float:
    """CPU seconds the workers of this process's pools spent on finished tasks."""
    return _TASK_CPU[0]


_MAIN_SWAP = threading.Lock()  # two builds in one process (two app sessions) swap in turn


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Workers started in this block do not import the parent's `__main__` script.

    They run only this package's functions; re-running a caller's script without a
    `__name__ == "__main__"` guard in every worker (multiprocessing's default) would be wrong.
    """
    with _MAIN_SWAP:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _watch_parent(parent: int) -> None:
    """A worker's initializer: exit when the build's process is gone (killed, out of memory),
    so no worker outlives it holding the caller's output pipe open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="coverage-search-parent-watch").start()


def windows(
    items: Iterable[T], *, count: int, size: Callable[[T], int] | None = None
) -> Iterator[list[T]]:
    """Consecutive lists of at most `count` items, a list closed early at WINDOW_BYTES of `size`."""
    todo: list[T] = []
    held = 0
    for item in items:
        todo.append(item)
        held += size(item) if size is not None else 0
        if len(todo) >= count or held >= WINDOW_BYTES:
            yield todo
            todo, held = [], 0
    if todo:
        yield todo


def _run_batch(fn: Callable[[T], R], batch: Sequence[T]) -> tuple[list[R], float]:
    began = time.process_time()
    return [fn(item) for item in batch], time.process_time() - began


class Pool:
    """Worker processes started on first use (never for one core), shared by several stages.

    `map_in_order` yields (item, fn(item) or None) in the order of `items`, `fn` applied only
    to the items `wanted` accepts, `batch` items a task so pickling is amortised, two windows of
    `window` items in flight (this process prepares the next while the workers run the
    current one). Fewer than MIN_ITEMS items (`count`) run here. `fn` must be a module-level
    function. If the pool cannot start or breaks (a worker killed), the rest runs in this
    process: the same results. Workers are "spawn"ed, never forked: the parent may hold threads
    (the app's, the tokenizer's, ONNX Runtime's), and a forked copy of a lock one of them holds
    deadlocks the child; spawned workers are also this process's children, so their CPU counts.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = min(cores(), MAX_WORKERS) if workers is None else workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._broken = self.workers <= 1

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (waiting for them, so their CPU time is counted)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def parallel(self, count: int) -> bool:
        """Whether `count` items would go to workers."""
        return not self._broken and count >= MIN_ITEMS

    def map_in_order(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        wanted: Callable[[T], bool],
        *,
        count: int,
        batch: int = 64,
        window: int = 512,
        size: Callable[[T], int] | None = None,
    ) -> Iterator[tuple[T, R | None]]:
        if not self.parallel(count):  # no pool, no batching, nothing held back
            for item in items:
                yield item, fn(item) if wanted(item) else None
            return
        flight: deque[tuple[list[T], list[tuple[list[T], Any]]]] = deque()
        for todo in windows(items, count=window, size=size):
            flight.append((todo, self._send(fn, todo, wanted, batch)))
            if len(flight) > 1:
                yield from self._receive(fn, *flight.popleft(), wanted)
        while flight:
            yield from self._receive(fn, *flight.popleft(), wanted)

    def _send(
        self, fn: Callable[[T], R], todo: list[T], wanted: Callable[[T], bool], batch: int
    ) -> list[tuple[list[T], Any]]:
        picked = [item for item in todo if wanted(item)]
        if self._pool is None and len(picked) < batch:
            return [(picked, None)]  # a few changed files of a rebuild start no workers
        batches = [picked[i : i + batch] for i in range(0, len(picked), batch)]
        return [(b, self._submit(fn, b)) for b in batches]

    def _submit(self, fn: Callable[[T], R], batch: list[T]) -> Any:
        if not self._broken and self._pool is None:
            try:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
            except (OSError, ValueError, NotImplementedError):
                self._broken = True
        if self._pool is not None:
            try:
                with _main_hidden():  # workers start on submit
                    return self._pool.submit(_run_batch, fn, batch)
            except (BrokenProcessPool, RuntimeError, OSError):  # OSError: no process to fork
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
                results, cpu = future.result()
                _TASK_CPU[0] += cpu
                return list(results)
            except BrokenProcessPool:
                self._give_up()
        return [fn(item) for item in batch]

    def _receive(
        self,
        fn: Callable[[T], R],
        todo: list[T],
        sent: list[tuple[list[T], Any]],
        wanted: Callable[[T], bool],
    ) -> Iterator[tuple[T, R | None]]:
        done = iter([r for batch, future in sent for r in self._results(fn, batch, future)])
        for item in todo:
            yield item, next(done) if wanted(item) else None


@contextlib.contextmanager
def using(pool: Pool | None, workers: int | None = None) -> Iterator[Pool]:
    """`pool` as it is (its owner closes it), or a Pool of `workers` for this block only."""
    if pool is not None:
        yield pool
        return
    with Pool(workers) as own:
        yield own
