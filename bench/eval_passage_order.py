"""How the answer orders the passages it read: passage first / top 3 under several passage scores.

    .venv/bin/python bench/eval_passage_order.py [--work DIR]

The answer lists the passages of its pool in the order of their best sentence (the combiner's
log-odds, query/answer._rerank), so "answer passage first" is whether the best sentence of all
is in the passage that holds the span. A passage that answers often has two or three good
sentences where a passage that merely mentions the topic has one, so other passage scores are
tried, all from the shipped combiner's sentence scores s (no refit):

- best: max s (the product);
- soft: log of the sum of exp(s) over the passage's sentences (a soft maximum that counts
  every good sentence);
- best + w × second best;
- best + w × the passage's fused retrieval score (feature passage_score).

Each is measured on the QA dev halves, the fresh and the training sets of the seed article and
TIME 1963 (the pool the product reads, query/answer.answer_pool). Keep a score only if it wins
passage first on both tune halves and loses on neither confirm half. Quoting does not change
(the sentences picked are the same). Writes bench/results/passage_order.json/.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_answer import Group, collect, dev_indexes  # noqa: E402
from machine import print_machine, save, table  # noqa: E402

from coverage_search.query import evidence  # noqa: E402

FILES = {
    "seed": ("qa_seed.jsonl", "qa_seed_fresh.jsonl", "qa_seed_train.jsonl"),
    "time": ("qa_time.jsonl", "qa_time_fresh.jsonl", "qa_time_train.jsonl"),
}
HALVES = ("tune", "confirm", "fresh", "train")
PassageScore = Callable[[np.ndarray, np.ndarray], float]  # (sentence scores, fused) → score


def best(s: np.ndarray, fused: np.ndarray) -> float:
    return float(s.max())


def soft(s: np.ndarray, fused: np.ndarray) -> float:
    top = float(s.max())
    return top + float(np.log(np.exp(s - top).sum()))


def second(w: float) -> PassageScore:
    def score(s: np.ndarray, fused: np.ndarray) -> float:
        ordered = np.sort(s)[::-1]
        return float(ordered[0] + (w * ordered[1] if len(ordered) > 1 else 0.0))

    return score


def with_fused(w: float) -> PassageScore:
    def score(s: np.ndarray, fused: np.ndarray) -> float:
        return float(s.max() + w * fused[0])

    return score


VARIANTS: dict[str, PassageScore] = {
    "best (product)": best,
    "soft maximum": soft,
    **{f"best + {w} x second": second(w) for w in (0.25, 0.5)},
    **{f"best + {w} x fused": with_fused(w) for w in (1.0, 2.0)},
}


def ranks(g: Group, score: PassageScore) -> int | None:
    s = evidence.combine(g.x)
    fused = g.x[:, evidence.FEATURES.index("passage_score")]
    n = len(g.hit_right)
    passage = np.full(n, -1e18)
    for h in range(n):
        mine = g.hit_of == h
        if mine.any():
            passage[h] = score(s[mine], fused[mine])
    order = list(np.argsort(-passage, kind="stable"))
    found = [r for r, h in enumerate(order, start=1) if g.hit_right[h]]
    return found[0] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-fit-answer"))
    args = parser.parse_args()
    info = print_machine()
    indexes = dev_indexes(args.work)
    groups = {
        name: [g for f in FILES[name] for g in collect(name, indexes[name], HERE / "data" / f, 0)]
        for name in FILES
    }
    for name, part in groups.items():  # the fresh and training files have no split
        for g in part:
            g.split = g.split or "fresh"
        sizes = {h: sum(g.split == h for g in part) for h in HALVES}
        print(name, sizes, flush=True)
    rows = []
    for label, score in VARIANTS.items():
        row: dict[str, object] = {"variant": label}
        for name, part in groups.items():
            for half in HALVES:
                sub = [g for g in part if g.split == half]
                r = [ranks(g, score) for g in sub]
                row[f"{name}/{half}"] = {
                    "n": len(sub),
                    "first": sum(x == 1 for x in r),
                    "top3": sum(x is not None and x <= 3 for x in r),
                }
        print(row, flush=True)
        rows.append(row)
    cols = [f"{n}/{h}" for n in FILES for h in HALVES]
    md = (
        "# Passage order in answers: passage first / top 3\n\n"
        f"`python bench/eval_passage_order.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start, {info['date']}). Questions whose pool holds "
        "no candidate sentence are left out; the fresh and train columns were never used to "
        "fit or choose anything.\n\n"
        + table(
            ["variant", *cols],
            [
                [r["variant"], *(f"{r[c]['first']} / {r[c]['top3']} of {r[c]['n']}" for c in cols)]  # type: ignore[index]
                for r in rows
            ],
        )
        + "\n"
    )
    save("passage_order", {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
