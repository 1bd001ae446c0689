"""Right article first for the TIME QA questions, by retriever: keyword, semantic, hybrid alphas.

    .venv/bin/python bench/eval_article_first.py [--work /tmp/coverage-fit-answer]

The TIME 1963 index of bench/fit_answer.py (built there if absent), the questions of
qa_time.jsonl (tune, confirm), qa_time_fresh.jsonl and qa_time_train.jsonl, each searched for 5
hits as typed by a reader (descriptions named, as the product does); counts the questions whose
first hit, and whose first three, hold the answering article. Results:
bench/results/article_first.json/.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fit_answer as fa  # noqa: E402
from machine import machine, save, table  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402

FILES = ("qa_time.jsonl", "qa_time_fresh.jsonl", "qa_time_train.jsonl")
SPLITS = ("tune", "confirm", "fresh", "train")
VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("keyword", {"mode": "keyword"}),
    ("semantic", {"mode": "semantic"}),
    *((f"hybrid alpha {a:g}", {"mode": "hybrid", "alpha": a}) for a in (0.3, 0.4, 0.5, 0.6, 0.7)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-fit-answer"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    index = CoverageIndex.open(fa.time_index(args.work, ChunkSettings()))
    questions = [json.loads(line) for f in FILES for line in (HERE / "data" / f).open()]
    facts = machine()
    results: dict[str, Any] = {}
    rows = []
    for label, options in VARIANTS:
        counts = {s: [0, 0, 0] for s in SPLITS}  # first, top 3, questions
        for q in questions:
            docs = [h.doc_id.removesuffix(".md") for h in index.search(q["question"], **options)]
            c = counts[q["split"]]
            c[0] += bool(docs and docs[0] == q["doc_id"])
            c[1] += q["doc_id"] in docs[:3]
            c[2] += 1
        results[label] = counts
        rows.append(
            [label, *(f"{counts[s][0]} / {counts[s][1]} of {counts[s][2]}" for s in SPLITS)]
        )
        print(*rows[-1], flush=True)
    header = (
        "# Right article first / in the top 3, TIME 1963 QA questions, by retriever\n\n"
        f"Machine: {facts['nproc']} cores, {facts['cpu']}, load {facts['load_1min_at_start']} at "
        "start. bench/eval_article_first.py; 5 hits, product defaults otherwise (alpha 0.5).\n\n"
    )
    save("article_first", results, header + table(["retriever", *SPLITS], rows))


if __name__ == "__main__":
    main()
