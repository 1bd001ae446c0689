"""Shared by the quality benches: build a BEIR collection's index once, then score variants.

The corpus is written as Markdown under $COVERAGE_BENCH_WORK (default /tmp/coverage-search-bench)
and built with the real `CoverageIndex.build`; one index folder per collection keeps its
embedding cache, so a setting seen before costs no embedding.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from machine import REPO, SHARED_EVAL, WORK

sys.path.insert(0, str(REPO / "src"))  # runs without pip install -e

from coverage_search.api import CoverageIndex
from coverage_search.evaluation import (
    BeirData,
    load_beir_folder,
    rank_documents,
    score_rankings,
    write_corpus,
)


@dataclass
class Prepared:
    """A built collection: its data, the file name → BEIR id map and the open index."""

    data: BeirData
    names: dict[str, str]
    index: CoverageIndex
    build_seconds: float
    embedded: int

    @property
    def tune(self) -> list[str]:
        """Tuning half: judged queries at even positions in file order."""
        return self.data.judged_queries()[0::2]

    @property
    def confirm(self) -> list[str]:
        """Confirmation half: judged queries at odd positions."""
        return self.data.judged_queries()[1::2]


def dataset(name: str) -> BeirData:
    folder = SHARED_EVAL / name
    if not folder.is_dir():
        sys.exit(f"{folder} is absent: the shared evaluation data is needed for this bench.")
    return load_beir_folder(folder)


def prepare(
    name: str, *, progress: bool = True, label: str = "index", **build_options: Any
) -> Prepared:
    """Write and (re)build collection `name` with `build_options`; open it."""
    data = dataset(name)
    work = WORK / name
    names = write_corpus(data, work / "corpus")
    start = time.perf_counter()
    report = CoverageIndex.build(work / "corpus", work / label, progress=progress, **build_options)
    seconds = time.perf_counter() - start
    if report.skipped:
        print(f"  {len(report.skipped)} files skipped, e.g. {report.skipped[0]}", file=sys.stderr)
    index = CoverageIndex.open(work / label)
    return Prepared(data, names, index, seconds, report.embedded)


def rankings(
    prep: Prepared, ids: Sequence[str], *, mode: str, depth: int = 100, **search_options: Any
) -> dict[str, list[str]]:
    """query id → ranked BEIR document ids."""
    return {
        q: rank_documents(
            prep.index, prep.data.queries[q], prep.names, mode=mode, depth=depth, **search_options
        )
        for q in ids
    }


def scores(prep: Prepared, ranked: Mapping[str, Sequence[str]]) -> dict[str, float]:
    return score_rankings(ranked, prep.data.qrels)
