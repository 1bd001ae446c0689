"""Retrieval quality on a BEIR collection: build a throwaway index, run every query, score."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_search.arguments import keyword_names, keyword_options
from coverage_search.errors import EvalDataError
from coverage_search.evaluation.beir import BeirData, claim_index, write_corpus
from coverage_search.evaluation.metrics import percentile, score_rankings

if TYPE_CHECKING:
    from coverage_search.api import CoverageIndex

MODES = ("keyword", "semantic", "hybrid")
DEPTH = 100  # documents ranked per query: enough for Recall@100
TOP = 10  # what nDCG@10, Recall@10 and MRR@10 look at


@dataclass(frozen=True, slots=True)
class ModeMetrics:
    """Document-level quality of one search mode over the judged queries, and its query latency."""

    mode: str
    queries: int
    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True)
class EvalReport:
    """What `evaluate` measured: one `ModeMetrics` per mode, plus the size of the index built."""

    dataset: str
    documents: int
    passages: int
    queries: int
    build_seconds: float
    modes: tuple[ModeMetrics, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def mode(self, name: str) -> ModeMetrics:
        """The metrics of one mode."""
        for metrics in self.modes:
            if metrics.mode == name:
                return metrics
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["options"] = dict(self.options)
        return data


# -- reading and writing BEIR files ---------------------------------------------------------


def rank_documents(
    index: CoverageIndex,
    query: str,
    names: Mapping[str, str],
    *,
    mode: str,
    depth: int = DEPTH,
    **search_options: Any,
) -> list[str]:
    """BEIR ids of the best `depth` documents for `query`; a document scores as its best passage.

    The top 10 come from a k=10 search, the rest from a k=`depth` one: hybrid fusion normalizes
    over a candidate pool that grows with k, so this measures the top 10 a user actually gets.
    Story grouping is off: every document is judged on its own.
    """
    options = {"per_document": 1, "group_stories": False, **search_options}
    ranking: list[str] = []
    for k in (TOP, depth) if depth > TOP else (depth,):
        for hit in index.search(query, k=k, mode=mode, **options):
            beir_id = names.get(hit.doc_id)
            if beir_id is not None and beir_id not in ranking:
                ranking.append(beir_id)
    return ranking[:depth]


def run_queries(
    index: CoverageIndex,
    data: BeirData,
    names: Mapping[str, str],
    *,
    modes: Sequence[str] = MODES,
    query_ids: Sequence[str] | None = None,
    progress: bool = True,
    **search_options: Any,
) -> tuple[dict[str, dict[str, list[str]]], dict[str, list[float]]]:
    """Rankings (mode → query id → BEIR ids) and latencies in ms (mode → list) for every query."""
    from tqdm import tqdm

    ids = list(query_ids) if query_ids is not None else data.judged_queries()
    rankings: dict[str, dict[str, list[str]]] = {m: {} for m in modes}
    latencies: dict[str, list[float]] = {m: [] for m in modes}
    bar = tqdm(
        total=len(ids) * len(modes), desc="queries", unit="q", disable=not progress, file=sys.stderr
    )
    with bar:
        for mode in modes:
            bar.set_postfix_str(mode)
            if ids:  # untimed: the first query may load the model (a cached build embeds nothing)
                rank_documents(index, data.queries[ids[0]], names, mode=mode, **search_options)
            for qid in ids:
                start = time.perf_counter()
                rankings[mode][qid] = rank_documents(
                    index, data.queries[qid], names, mode=mode, **search_options
                )
                latencies[mode].append((time.perf_counter() - start) * 1000)
                bar.update()
    return rankings, latencies


def evaluate(
    data: BeirData,
    *,
    modes: Sequence[str] = MODES,
    model: str | None = None,
    index_dir: Path | str | None = None,
    corpus_dir: Path | str | None = None,
    query_ids: Sequence[str] | None = None,
    progress: bool = True,
    build_options: Mapping[str, Any] | None = None,
    search_options: Mapping[str, Any] | None = None,
) -> EvalReport:
    """Build an index of `data`'s corpus (throwaway unless `index_dir` is given); score every query.

    The corpus is written as Markdown files and built by the real `CoverageIndex.build`, so the
    whole pipeline is measured. Reuse `index_dir` and `corpus_dir` across runs to reuse the
    embedding cache.
    """
    from coverage_search.api import CoverageIndex

    if not isinstance(data, BeirData):
        raise EvalDataError(f"data must be a collection from load_beir, not {type(data).__name__}.")
    if isinstance(modes, str) or not isinstance(modes, Sequence):
        raise EvalDataError(f"modes must be a list of mode names ({', '.join(MODES)}).")
    if query_ids is not None and (missing := set(query_ids) - set(data.queries)):
        raise EvalDataError(f"No query {sorted(missing)[0]!r} in {data.name}: give its ids.")
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise EvalDataError(
            f"Unknown mode {', '.join(unknown) or '(none)'}: use {', '.join(MODES)}."
        )
    searching = keyword_names(CoverageIndex.search, but={"k", "mode"}) | {"depth"}
    search_options = keyword_options(
        search_options, "search_options", searching, own={"mode": "modes"}
    )
    building = keyword_names(CoverageIndex.build, but={"model", "progress"})
    build_options = keyword_options(
        build_options, "build_options", building, own={"model": "model", "progress": "progress"}
    )
    with tempfile.TemporaryDirectory(prefix="coverage-eval-") as scratch:
        corpus = Path(corpus_dir) if corpus_dir else Path(scratch) / "corpus"
        target = Path(index_dir) if index_dir else Path(scratch) / "index"
        claim_index(target, corpus)  # never a user's own index; refused before writing corpus
        names = write_corpus(data, corpus)
        start = time.perf_counter()
        CoverageIndex.build(corpus, target, model=model, progress=progress, **build_options)
        build_seconds = time.perf_counter() - start
        index = CoverageIndex.open(target, model=model)
        try:
            stats = index.stats()
            rankings, latencies = run_queries(
                index,
                data,
                names,
                modes=modes,
                query_ids=query_ids,
                progress=progress,
                **search_options,
            )
        finally:
            close = getattr(index, "close", None)
            if close is not None:
                close()
    results = []
    for mode in modes:
        scores = score_rankings(rankings[mode], data.qrels)
        results.append(
            ModeMetrics(
                mode=mode,
                queries=len(rankings[mode]),
                p50_ms=percentile(latencies[mode], 50),
                p95_ms=percentile(latencies[mode], 95),
                **scores,
            )
        )
    options = {k: repr(v) for k, v in {**build_options, **search_options}.items()}
    return EvalReport(
        dataset=data.name,
        documents=stats.documents,
        passages=stats.passages,
        queries=len(rankings[modes[0]]),
        build_seconds=build_seconds,
        modes=tuple(results),
        options=options,
    )
