"""Where to set the refusal bar: the best sentence's cosine, answerable vs off-topic questions.

For the QA dev sets (seed article, TIME 1963) and the off-topic questions, on each index: the
highest sentence cosine among the answer's candidates. Two rules are compared, per half:

- a fixed bar (evidence.MIN_COSINE, the rule before): refuse under 0.20 … 0.35;
- a bar per index (query/refusal.py): the median best cosine of the probe questions plus a
  margin, never under MIN_COSINE. The margin kept is the highest that refuses no answerable
  question of the tune halves.

    python bench/refusal.py [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine  # noqa: E402
from qa_levers import DATA, build, corpora  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query.answer import (  # noqa: E402
    ANSWER_DOCUMENT_PRIOR,
    ANSWER_PER_DOCUMENT,
    ANSWER_POOL,
    best_cosine,
)
from coverage_search.query.evidence import MIN_COSINE  # noqa: E402
from coverage_search.query.refusal import NULL_MARGIN, PROBES  # noqa: E402

THRESHOLDS = (0.20, 0.25, 0.30, 0.35, 0.40)
MARGINS = (0.05, 0.08, 0.10, 0.12, 0.15)


def cosine(index: CoverageIndex, question: str) -> float:
    hits = index.search(
        question,
        k=ANSWER_POOL,
        per_document=ANSWER_PER_DOCUMENT,
        document_prior=ANSWER_DOCUMENT_PRIOR,
    )
    return best_cosine(question, hits, index.embedder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = corpora(args.work)
    offtopic = [json.loads(line) for line in (HERE / "data" / "qa_offtopic.jsonl").open()]
    lines = ["# Refusal bar", "", f"machine: {json.dumps(machine())}", ""]
    table = ["| set | half | rule | bar | answerable refused | off-topic answered |"]
    table.append("|---|---|---|---|---|---|")
    results: dict[str, object] = {}
    safe: dict[str, float] = {}
    for name in DATA:
        index = CoverageIndex.open(
            build(sources[name], args.work / f"{name}-refusal", ChunkSettings())
        )
        null = statistics.median(cosine(index, p) for p in PROBES)
        lines.append(f"- {name}: probes' median best cosine {null:.3f}")
        rows = [json.loads(line) for line in DATA[name].open()]
        for half in ("tune", "confirm"):
            answerable = [cosine(index, r["question"]) for r in rows if r["split"] == half]
            off = [cosine(index, r["question"]) for r in offtopic if r["split"] == half]
            results[f"{name}/{half}"] = {"null": null, "answerable": answerable, "offtopic": off}
            rules = [(f"fixed {t:.2f}", t) for t in THRESHOLDS]
            rules += [(f"probes + {m:.2f}", max(MIN_COSINE, null + m)) for m in MARGINS]
            for label, bar in rules:
                refused = sum(x < bar for x in answerable)
                answered = sum(x >= bar for x in off)
                table.append(
                    f"| {name} | {half} | {label} | {bar:.3f} | {refused} of {len(answerable)} "
                    f"| {answered} of {len(off)} |"
                )
            if half == "tune":
                safe[name] = min(answerable) - null
        index.close()
    lines += ["", *table, ""]
    lines.append(
        "Largest margin over the probes refusing no tune question: "
        + ", ".join(f"{n} {v:.3f}" for n, v in safe.items())
        + f" (NULL_MARGIN = {NULL_MARGIN}, MIN_COSINE = {MIN_COSINE})."
    )
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results" / "refusal.md").write_text(text, encoding="utf-8")
    (HERE / "results" / "refusal.json").write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
