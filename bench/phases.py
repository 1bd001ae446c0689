"""Where a build spends its time: wall-clock seconds per stage, measured by wrapping the stages.

    with build_phases() as spent:
        CoverageIndex.build(...)
    spent  # {"scan (read, parse)": 41.2, ...}

The wrapped functions are the build's own (looked up where the build calls them); the wrappers
only add a clock around each call, so the build itself is unchanged. Stages run one after the
other, so their sum plus "other" is the build's wall time.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from coverage_search.sources.parallel import task_cpu_seconds

# (module, attribute path, label), in the order a build runs them.
STAGES = (
    ("coverage_search.build.run", "_previous", "previous build (documents)"),
    ("coverage_search.build.run", "scan_corpus", "scan (read, parse, cache)"),
    ("coverage_search.build.cache", "BuildCache.sketches", "dedup sketches (MinHash)"),
    ("coverage_search.build.run", "group_stories", "dedup grouping (LSH, checks)"),
    ("coverage_search.build.cache", "BuildCache.passages", "chunking (+ build cache)"),
    ("coverage_search.build.run", "_embed", "vectors from the embedding cache"),
    ("coverage_search.engine.local.engine", "write_content", "SQLite documents and passages"),
    ("coverage_search.engine.local.engine", "write_keywords", "tantivy (analysis included)"),
    ("coverage_search.engine.local.engine", "VectorIndex.create", "FAISS train and add"),
    ("coverage_search.engine.local.engine", "VectorIndex.save", "FAISS write"),
    ("coverage_search.engine.local.engine", "file_record", "checksums"),
    ("coverage_search.build.run", "layout.publish", "fsync and switch"),
    ("coverage_search.build.cache", "BuildCache.close", "build cache close (sweep)"),
)
ANALYSIS = "of which keyword analysis"


def _resolve(module: str, path: str) -> tuple[Any, str]:
    owner: Any = importlib.import_module(module)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    return owner, name


def cpu_seconds() -> float:
    """CPU seconds of this process's threads and of its workers' tasks (the build's pool)."""
    t = os.times()
    return t.user + t.system + task_cpu_seconds()


def total_cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children: the workers' startup too."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(
    original: Callable[..., Any], spent: dict[str, float], cpu: dict[str, float], label: str
) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began, began_cpu = time.perf_counter(), cpu_seconds()
        try:
            result = original(*args, **kwargs)
            if isinstance(result, Iterator):  # a generator: its work happens while consumed
                result = list(result)
            return result
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - began
            cpu[label] = cpu.get(label, 0.0) + cpu_seconds() - began_cpu

    return wrapper


@contextlib.contextmanager
def build_phases() -> Iterator[tuple[dict[str, float], dict[str, float]]]:
    """Wall-clock and CPU seconds per build stage while the block runs ("total" and "other" at
    its end). CPU time counts every thread of the process (the tokenizer and FAISS use both
    cores) and the worker processes of the stages spread over the cores, and hardly depends on
    what else the machine runs: compare it across runs."""
    spent: dict[str, float] = {}
    cpu: dict[str, float] = {}
    restore: list[tuple[Any, str, Any]] = []
    for module, path, label in STAGES:
        owner, name = _resolve(module, path)
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        if isinstance(original, classmethod):
            wrapped: Any = classmethod(_timed(original.__func__, spent, cpu, label))
        else:
            wrapped = _timed(original, spent, cpu, label)
        restore.append((owner, name, original))
        setattr(owner, name, wrapped)
    keywords = importlib.import_module("coverage_search.engine.local.keywords")
    make_analyzer = keywords.text_analyzer

    def timed_analyzer(stemming: bool) -> Callable[[str], str]:
        return _timed(make_analyzer(stemming), spent, cpu, ANALYSIS)  # type: ignore[no-any-return]

    keywords.text_analyzer = timed_analyzer
    began, began_cpu = time.perf_counter(), total_cpu_seconds()
    try:
        yield spent, cpu
    finally:
        keywords.text_analyzer = make_analyzer
        for owner, name, original in reversed(restore):
            setattr(owner, name, original)
        spent["total"] = time.perf_counter() - began
        cpu["total"] = total_cpu_seconds() - began_cpu
        for figures in (spent, cpu):
            inner = sum(v for k, v in figures.items() if k not in ("total", ANALYSIS))
            figures["other"] = figures["total"] - inner
