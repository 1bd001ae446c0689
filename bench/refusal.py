"""Where to set evidence.MIN_COSINE: the best sentence's cosine, answerable vs off-topic questions.

For the QA dev sets (seed article, TIME 1963) and the off-topic questions, on each index: the
highest sentence cosine among the answer's candidates, then for each threshold how many
answerable questions it would refuse and how many off-topic ones it would answer, per half.
The rule: the highest threshold that refuses no answerable question of the tune halves.

    python bench/refusal.py [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine  # noqa: E402
from qa_levers import DATA, build, corpora  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query.answer import score_sentences  # noqa: E402
from coverage_search.query.evidence import MIN_COSINE, keyword_weights  # noqa: E402
from coverage_search.query.terms import keyword_terms  # noqa: E402

THRESHOLDS = (0.20, 0.22, 0.25, 0.28, 0.30, 0.35)


def best_cosine(index: CoverageIndex, question: str) -> float:
    terms = keyword_terms(question)
    docs, passages = index.engine.term_docs(terms)
    scored, _ = score_sentences(
        question,
        index.search(question, k=5),
        index.embedder,
        keyword_weights(terms, docs, passages),
    )
    return max((s.cosine for s in scored), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = corpora(args.work)
    offtopic = [json.loads(line) for line in (HERE / "data" / "qa_offtopic.jsonl").open()]
    lines = ["# Refusal threshold", "", f"machine: {json.dumps(machine())}", ""]
    lines += [
        "| set | half | threshold | answerable refused | off-topic answered |",
        "|---|---|---|---|---|",
    ]
    results: dict[str, object] = {}
    highest_safe = {}
    for name in DATA:
        index = CoverageIndex.open(
            build(sources[name], args.work / f"{name}-refusal", ChunkSettings())
        )
        rows = [json.loads(line) for line in DATA[name].open()]
        for half in ("tune", "confirm"):
            answerable = [best_cosine(index, r["question"]) for r in rows if r["split"] == half]
            off = [best_cosine(index, r["question"]) for r in offtopic if r["split"] == half]
            results[f"{name}/{half}"] = {"answerable": answerable, "offtopic": off}
            for t in THRESHOLDS:
                refused = sum(x < t for x in answerable)
                answered = sum(x >= t for x in off)
                lines.append(
                    f"| {name} | {half} | {t:.2f} | {refused} of {len(answerable)} | "
                    f"{answered} of {len(off)} |"
                )
                if half == "tune" and refused == 0:
                    highest_safe[name] = t
        index.close()
    pick = min(highest_safe.values())
    lines += [
        "",
        f"Highest threshold refusing no tune question: {pick:.2f} (MIN_COSINE = {MIN_COSINE}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results" / "refusal.md").write_text(text, encoding="utf-8")
    (HERE / "results" / "refusal.json").write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
