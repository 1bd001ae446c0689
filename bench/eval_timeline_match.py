"""Which stories the timeline counts: the keyword-share rule measured on ../shared/eval.

    .venv/bin/python bench/eval_timeline_match.py [--datasets time1963 scifact]
        [--shares 0 0.25 0.33 0.5 0.67]

The timeline (and the watches) count a story when keyword search found it or its cosine with
the question reaches query/coverage.MIN_COSINE (query/coverage.is_match). A keyword hit used to
count whatever it held: "How many moons does Jupiter have?" counted the story holding "many".
Now it counts when it holds a share of the question's words, each weighed by its rarity
(query/evidence.keyword_share, as the answer's features weigh them). For each share,
over the 100 best stories of each judged query (hybrid search, one passage a story, the
product's path), this counts the judged-relevant stories counted (recall) and the share of
counted stories that are relevant (precision), on the tune and confirm halves. Writes
bench/results/timeline_match.{json,md}.
"""

from __future__ import annotations

import argparse
from typing import Any

from evalkit import prepare
from machine import print_machine, save, table

from coverage_search.query.coverage import MIN_COSINE
from coverage_search.query.evidence import keyword_share, question_weights
from coverage_search.records import SearchHit

DEPTH = 100


def counted(hit: SearchHit, weights: dict[str, float], share: float, cosine: float) -> bool:
    text = f"{hit.title} {hit.heading or ''} {hit.text}"
    if hit.keyword is not None and keyword_share(weights, text) >= share:
        return True
    return hit.semantic is not None and hit.semantic.score >= cosine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["time1963", "scifact"])
    parser.add_argument("--shares", type=float, nargs="+", default=[0, 0.25, 0.33, 0.5, 0.67])
    parser.add_argument(
        "--cosines", type=float, nargs="+", default=[MIN_COSINE],
        help="semantic bars to try; 0 stands for the index's refusal bar",
    )  # fmt: skip
    args = parser.parse_args()
    info = print_machine()
    results: dict[str, Any] = {}
    md = [
        "# Which stories the timeline counts (keyword share)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, load at start "
        f"{info['load_1min_at_start']}. 100 best stories a judged query, hybrid search. "
        "Recall: judged-relevant stories among the 100 that are counted; precision: counted "
        "stories that are judged relevant (judgments are sparse, so it is low for every rule).\n"
    ]
    for name in args.datasets:
        prep = prepare(name)
        beir_of = prep.names
        halves = {"tune": prep.tune, "confirm": prep.confirm}
        hits = {
            q: prep.index.search(prep.data.queries[q], k=DEPTH, per_document=1)
            for q in prep.tune + prep.confirm
        }
        weights = {
            q: question_weights(prep.index.engine, prep.data.queries[q])
            for q in prep.tune + prep.confirm
        }
        rows = []
        bar = prep.index.refusal_floor()
        for share, cosine in [(s, c or bar) for c in args.cosines for s in args.shares]:
            row: dict[str, Any] = {"share": share, "cosine": round(cosine, 3)}
            for half, ids in halves.items():
                found = relevant = kept = kept_relevant = 0
                for q in ids:
                    judged = {d for d, g in prep.data.qrels.get(q, {}).items() if g > 0}
                    for hit in hits[q]:
                        is_relevant = beir_of.get(hit.doc_id) in judged
                        relevant += is_relevant
                        if counted(hit, weights[q], share, cosine):
                            kept += 1
                            kept_relevant += is_relevant
                    found += 1
                row[half] = {
                    "recall": kept_relevant / relevant if relevant else 0.0,
                    "precision": kept_relevant / kept if kept else 0.0,
                    "counted_per_query": kept / found if found else 0.0,
                }
            rows.append(row)
            print(
                f"{name} share {share:g} cosine {cosine:.3f}: "
                + "  ".join(
                    f"{h} recall {row[h]['recall']:.3f} precision {row[h]['precision']:.3f} "
                    f"counted {row[h]['counted_per_query']:.1f}"
                    for h in halves
                ),
                flush=True,
            )
        results[name] = rows
        md.append(f"\n## {name}\n")
        md.append(
            table(
                ["share", "cosine", "tune recall", "tune precision", "tune counted/query",
                 "confirm recall", "confirm precision", "confirm counted/query"],
                [
                    [f"{r['share']:g}", f"{r['cosine']:.3f}"]
                    + [f"{r[h][m]:.3f}" if m != "counted_per_query" else f"{r[h][m]:.1f}"
                       for h in halves for m in ("recall", "precision", "counted_per_query")]
                    for r in rows
                ],
            )
        )  # fmt: skip
    save("timeline_match", {"machine": info, "results": results}, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
