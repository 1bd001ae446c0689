"""Where a build's time goes: a fresh build from nothing, timed stage by stage.

    .venv/bin/python bench/bench_build.py [--dataset time1963] [--rounds 2] [--name build_breakdown]

Writes the dataset's corpus as Markdown (as bench_txtai.py does), then builds it from an empty
index folder `--rounds` times in this process (the model is loaded once, as it is in a fresh
build, and its load is timed on the first round). Each stage is timed by wrapping the
function that does it (wall seconds, in the order a build runs them): reading the corpus,
near-duplicate sketches and story grouping, chunking (sentence splitting and word-piece
counting), the embedding (split into tokenizing, ONNX Runtime runs, and the rest of the
encoder: padding, pooling; with int8 runs side by side, their pooling counts as ONNX time), the
embedding cache's writes, then the engine writer's SQLite
tables, tantivy keyword index, FAISS index, and the files' checksums. The remainder is what
no wrapper saw. Writes bench/results/<name>.json and .md; the 1-minute load is taken before
and after every round.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from machine import REPO, SHARED_EVAL, WORK, print_machine, save, table

sys.path.insert(0, str(REPO / "src"))

STAGES = (
    "load model",
    "read corpus",
    "sketches + stories",
    "chunking",
    "tokenizing (encoder)",
    "ONNX Runtime runs",
    "encoder other (pad, pool)",
    "embedding cache writes",
    "SQLite tables",
    "tantivy keywords",
    "FAISS index",
    "checksums",
)

_spent: dict[str, float] = defaultdict(float)
_active: list[str] = []


def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, adding its wall time to `stage` (nested timed calls are not counted twice)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        _active.append(stage)
        try:
            return fn(*args, **kwargs)
        finally:
            _active.pop()
            spent = time.perf_counter() - start
            _spent[stage] += spent
            if _active:  # a stage inside another: the outer one must not count it again
                _spent[_active[-1]] -= spent

    return wrapper


def instrument() -> None:
    """Wrap each stage's function where the build looks it up."""
    import coverage_search.build.run as run
    import coverage_search.engine.local.engine as local
    from coverage_search.build.cache import BuildCache
    from coverage_search.build.embedding_cache import EmbeddingCache
    from coverage_search.embed import embedder as embedding
    from coverage_search.embed import onnx

    scan = run.scan_corpus
    run.scan_corpus = timed("read corpus", lambda *a, **k: list(scan(*a, **k)))  # a generator
    run.group_stories = timed("sketches + stories", run.group_stories)  # type: ignore[attr-defined]
    BuildCache.sketches = timed("sketches + stories", BuildCache.sketches)  # type: ignore[method-assign]
    BuildCache.passages = timed("chunking", BuildCache.passages)  # type: ignore[method-assign]
    EmbeddingCache.put = timed("embedding cache writes", EmbeddingCache.put)  # type: ignore[method-assign]
    embedding.Embedder._load_model = timed("load model", embedding.Embedder._load_model)  # type: ignore[method-assign]
    embedding.Embedder.encode = timed("encoder other (pad, pool)", embedding.Embedder.encode)  # type: ignore[method-assign]
    local.write_content = timed("SQLite tables", local.write_content)  # type: ignore[attr-defined]
    local.write_keywords = timed("tantivy keywords", local.write_keywords)  # type: ignore[attr-defined]
    local.VectorIndex.create = timed("FAISS index", local.VectorIndex.create)  # type: ignore[method-assign]
    local.VectorIndex.save = timed("FAISS index", local.VectorIndex.save)  # type: ignore[method-assign]
    local.file_record = timed("checksums", local.file_record)  # type: ignore[attr-defined]

    original_init = onnx.OnnxEncoder.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        session, tokenizer = self._session, self._tokenizer
        self._session = _Timed(session, {"run": "ONNX Runtime runs"})
        self._tokenizer = _Timed(tokenizer, {"encode_batch": "tokenizing (encoder)"})

    onnx.OnnxEncoder.__init__ = init  # type: ignore[method-assign]
    # int8 texts run on several one-thread sessions at once: their runs (and pooling) are timed
    # as one wall-clock span, since per-thread times would add up past the wall.
    onnx.OnnxEncoder._side_by_side = timed(  # type: ignore[method-assign]
        "ONNX Runtime runs", onnx.OnnxEncoder._side_by_side
    )


class _Timed:
    """An object whose named methods are timed, everything else passed through."""

    def __init__(self, inner: Any, stages: dict[str, str]) -> None:
        self._inner = inner
        self._stages = stages

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name in self._stages:
            return timed(self._stages[name], value)
        return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="time1963")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--name", default="build_breakdown")
    args = parser.parse_args()
    info = print_machine()
    instrument()
    from coverage_search import CoverageIndex
    from coverage_search.evaluation import load_beir_folder, write_corpus

    work = WORK / f"build-{args.dataset}"
    shutil.rmtree(work, ignore_errors=True)
    write_corpus(load_beir_folder(SHARED_EVAL / args.dataset), work / "corpus")
    rounds: list[dict[str, Any]] = []
    for n in range(args.rounds):
        shutil.rmtree(work / "index", ignore_errors=True)
        _spent.clear()
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        report = CoverageIndex.build(work / "corpus", work / "index", progress=False)
        total = time.perf_counter() - start
        stages = {s: _spent.get(s, 0.0) for s in STAGES}
        stages["other (not wrapped)"] = total - sum(stages.values())
        rounds.append(
            {
                "round": n + 1,
                "total_s": total,
                "passages": report.passages,
                "documents": report.documents,
                "embedded": report.embedded,
                "load_before": round(load_before, 2),
                "load_after": round(os.getloadavg()[0], 2),
                "stages_s": stages,
            }
        )
        print(
            f"round {n + 1}: {total:.1f} s, {report.passages} passages "
            f"({report.embedded / max(stages['ONNX Runtime runs'], 1e-9):.1f} passages per "
            f"ONNX second), load {load_before:.2f} → {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        for stage, seconds in stages.items():
            print(f"  {stage:<28} {seconds:6.2f} s", flush=True)
    headers = ["stage", *(f"round {r['round']} s" for r in rounds), "share"]
    last = rounds[-1]
    rows = [
        [
            stage,
            *(round(r["stages_s"][stage], 2) for r in rounds),
            f"{100 * last['stages_s'][stage] / last['total_s']:.0f}%",
        ]
        for stage in last["stages_s"]
    ]
    rows.append(["**total**", *(round(r["total_s"], 1) for r in rounds), "100%"])
    rows.append(
        [
            "passages/s: whole build / ONNX runs alone",
            *(
                f"{r['passages'] / r['total_s']:.1f} / "
                f"{r['embedded'] / max(r['stages_s']['ONNX Runtime runs'], 1e-9):.1f}"
                for r in rounds
            ),
            "",
        ]
    )
    rows.append(
        [
            "1-minute load before → after",
            *(f"{r['load_before']} → {r['load_after']}" for r in rounds),
            "",
        ]
    )
    md = (
        f"# Where a build's time goes ({args.dataset}, from nothing)\n\nMachine: {info['nproc']} "
        f"cores, {info['cpu']}, {info['ram_gib']} GiB RAM, shared. {last['documents']} "
        f"documents, {last['passages']} passages, all embedded each round (empty index "
        f"folder); the model loads once, in round 1. Command: `bench/bench_build.py --dataset "
        f"{args.dataset} --rounds {args.rounds}`.\n\n" + table(headers, rows)
    )
    save(args.name, {"dataset": args.dataset, "rounds": rounds}, md)


if __name__ == "__main__":
    main()
