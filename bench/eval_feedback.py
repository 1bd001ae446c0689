"""Query-side feedback levers on ../shared/eval: RM3-style keyword expansion and Rocchio vectors.

From the first five passages of the default hybrid search, each variant changes one side of the
second search (nDCG@10, tune = even query positions, confirm = odd, as everywhere):

- rm3 keyword E: the E terms of those passages with the highest tf x idf (not in the query)
  are added to the keyword side only;
- rocchio B: the query vector moves toward the mean of those passages' vectors,
  q' = normalize(q + B * mean), the keyword side unchanged.

    .venv/bin/python bench/eval_feedback.py [--datasets scifact time1963]

Writes bench/results/feedback.json and .md.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np
from evalkit import Prepared, prepare, rankings, scores
from machine import machine, print_machine, save

from coverage_search.query import search as search_module
from coverage_search.query.terms import keyword_terms

FEEDBACK_PASSAGES = 5


def first_pass(prep: Prepared, query: str) -> list[Any]:
    return prep.index.search(query, k=FEEDBACK_PASSAGES, per_document=1, group_stories=False)


def expansion(prep: Prepared, query: str, count: int) -> list[str]:
    """The `count` terms of the first passages with the highest tf x idf, query terms left out."""
    own = set(keyword_terms(query))
    tf: Counter[str] = Counter()
    for hit in first_pass(prep, query):
        tf.update(t for t in keyword_terms(hit.text) if t not in own and len(t) > 2)
    if not tf:
        return []
    terms = list(tf)
    docs, passages = prep.index.engine.term_docs(terms)
    weight = {t: tf[t] * math.log(1 + passages / (n + 1)) for t, n in zip(terms, docs, strict=True)}
    return sorted(terms, key=lambda t: -weight[t])[:count]


@contextmanager
def keyword_expanded(prep: Prepared, extra: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """Searches of a known query run their keyword side with its extra terms."""
    original = search_module.keyword_search

    def patched(query: str, settings: Any, **kw: Any) -> Any:
        terms = extra.get(query)
        if terms:
            query = query + " " + " ".join(terms)
        return original(query, settings, **kw)

    search_module.keyword_search = patched
    try:
        yield
    finally:
        search_module.keyword_search = original


@contextmanager
def rocchio(prep: Prepared, beta: float, queries: list[str]):  # type: ignore[no-untyped-def]
    """Searches of a known query embed it moved toward its first passages."""
    embedder = prep.index.embedder
    moved: dict[str, np.ndarray] = {}
    for q in queries:
        hits = first_pass(prep, q)
        base = embedder.encode_query(q)
        if hits:
            mean = embedder.encode([h.text for h in hits]).mean(axis=0)
            v = base + beta * mean
            base = (v / np.linalg.norm(v)).astype(np.float32)
        moved[q] = base
    original: Callable[[str], np.ndarray] = embedder.encode_query
    embedder.encode_query = lambda text: moved[text] if text in moved else original(text)  # type: ignore[method-assign]
    try:
        yield
    finally:
        embedder.encode_query = original  # type: ignore[method-assign]


def halves(prep: Prepared) -> dict[str, float]:
    out = {}
    for half, ids in (("tune", prep.tune), ("confirm", prep.confirm)):
        out[half] = scores(prep, rankings(prep, ids, mode="hybrid"))["ndcg_at_10"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    parser.add_argument("--terms", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--betas", type=float, nargs="+", default=[0.3, 0.6])
    args = parser.parse_args()
    print_machine()
    rows: list[dict[str, Any]] = []
    for name in args.datasets:
        prep = prepare(name, progress=False)
        texts = [prep.data.queries[q] for q in prep.tune + prep.confirm]
        variants: list[tuple[str, Any]] = [("default", None)]
        variants += [(f"rm3 keyword {e}", ("rm3", e)) for e in args.terms]
        variants += [(f"rocchio {b}", ("rocchio", b)) for b in args.betas]
        for label, spec in variants:
            start = time.perf_counter()
            if spec is None:
                result = halves(prep)
            elif spec[0] == "rm3":
                extra = {q: expansion(prep, q, spec[1]) for q in texts}
                with keyword_expanded(prep, extra):
                    result = halves(prep)
            else:
                with rocchio(prep, spec[1], texts):
                    result = halves(prep)
            seconds = time.perf_counter() - start
            print(
                f"{name:10} {label:18} tune {result['tune']:.4f} confirm {result['confirm']:.4f}"
                f" ({seconds:.0f} s)",
                flush=True,
            )
            rows.append({"dataset": name, "variant": label, **result})
        prep.index.close()
    lines = [
        "# Feedback levers (hybrid nDCG@10, tune / confirm)",
        "",
        f"machine: {machine()}",
        "",
        "| dataset | variant | tune | confirm |",
        "|---|---|---|---|",
        *[
            f"| {r['dataset']} | {r['variant']} | {r['tune']:.4f} | {r['confirm']:.4f} |"
            for r in rows
        ],
    ]
    save("feedback", {"rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
