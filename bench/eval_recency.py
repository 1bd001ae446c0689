"""Does the recency option help? MRR@5 on dated dev questions, "latest" ones and dated ones.

    .venv/bin/python bench/eval_recency.py

bench/data/recency_dev.jsonl: 8 made-up stories (fictional companies) told in 2-3 dated
installments, 21 short articles in all, and 16 questions: per story one asking for the latest
state ("What is Nimbus Labs' latest valuation?": the newest installment is relevant) and one
about an earlier fact ("What valuation did Harbor Capital lead?": an older one is). The real
model and a real build; hybrid search, k=5, one passage per document, at several recency
weights. Writes bench/results/recency.json/.md.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml
from machine import REPO, WORK, print_machine, save, table

sys.path.insert(0, str(REPO / "src"))

from coverage_search import CoverageIndex

DATA = Path(__file__).resolve().parent / "data" / "recency_dev.jsonl"
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
COLUMNS = ("weight", "mrr_latest", "top1_latest", "mrr_dated", "top1_dated", "mrr_all")


def main() -> None:
    info = print_machine()
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    docs = [r["document"] for r in rows if "document" in r]
    queries = [r["query"] for r in rows if "query" in r]
    root = WORK / "recency"
    shutil.rmtree(root, ignore_errors=True)
    for d in docs:
        meta = {k: d[k] for k in ("title", "published", "outlet")}
        head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        path = root / "corpus" / d["doc_id"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{head}---\n\n{d['text']}\n", encoding="utf-8")
    CoverageIndex.build(root / "corpus", root / "index", progress=False)
    index = CoverageIndex.open(root / "index")
    results = []
    for weight in WEIGHTS:
        scores: dict[str, list[float]] = {"latest": [], "dated": []}
        firsts: dict[str, list[int]] = {"latest": [], "dated": []}
        for q in queries:
            hits = index.search(q["question"], k=5, per_document=1, recency=weight)
            ranks = [h.doc_id for h in hits]
            rr = 1 / (ranks.index(q["relevant"]) + 1) if q["relevant"] in ranks else 0.0
            scores[q["kind"]].append(rr)
            firsts[q["kind"]].append(int(bool(ranks) and ranks[0] == q["relevant"]))
        row = {"weight": weight}
        for kind in ("latest", "dated"):
            row[f"mrr_{kind}"] = round(sum(scores[kind]) / len(scores[kind]), 3)
            row[f"top1_{kind}"] = f"{sum(firsts[kind])}/{len(firsts[kind])}"
        all_rr = scores["latest"] + scores["dated"]
        row["mrr_all"] = round(sum(all_rr) / len(all_rr), 3)
        results.append(row)
        print(row, flush=True)
    index.close()
    best = max(results, key=lambda r: (r["mrr_all"], -r["weight"]))
    md = (
        "# Recency on dated dev questions\n\n"
        f"`python bench/eval_recency.py` ({info['nproc']} cores, load "
        f"{info['load_1min_at_start']}): {len(docs)} articles, {len(queries)} questions "
        "(half ask for the latest state, half for an earlier fact), hybrid, k=5.\n\n"
        + table(
            ["recency", "MRR latest", "top-1 latest", "MRR dated", "top-1 dated", "MRR all"],
            [[r[key] for key in COLUMNS] for r in results],
        )
        + f"\n\nBest overall: recency {best['weight']}.\n"
    )
    save("recency", {"results": results}, md)


if __name__ == "__main__":
    main()
