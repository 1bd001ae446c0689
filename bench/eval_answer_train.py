"""Does the answer's combiner gain from more questions to fit on? Training sets against tune only.

The combiner (query/evidence.py WEIGHTS) was fitted on the tune halves of the two dev sets:
28 seed and 44 TIME questions. bench/data/qa_seed_train.jsonl and qa_time_train.jsonl are
further questions of the same kinds (split "train"; TIME ones on articles no dev or fresh
question uses, seed ones on sentences no other question's span lies in). Each fit below is
scored, with the product's pool and choice (bench/fit_answer.py), on the tune and confirm
halves and the fresh sets, as passage first / quoted:

- tune halves (the product's fit, refitted here),
- tune halves + training sets,
- training sets only (then the tune halves are out of sample too).

Then variants of the fit (regularisation C, each feature left out) are chosen the fair way:
5-fold cross-validation over the tune halves and training sets together (folds by question,
per collection), the sum of passage first and quoted over the held-out folds; the best one,
refitted on all of them, is then checked on the confirm halves and the fresh sets.

    python bench/eval_answer_train.py [--work /tmp/coverage-fit-answer]

Prints the weights of each fit to paste into query/evidence.py. Results:
bench/results/answer_train.json/.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fit_answer as fa  # noqa: E402
from machine import machine, save  # noqa: E402

from coverage_search.query import answer, evidence  # noqa: E402

DATA = HERE / "data"
SETS = (
    ("seed", "qa_seed.jsonl"),
    ("time", "qa_time.jsonl"),
    ("seed", "qa_seed_fresh.jsonl"),
    ("time", "qa_time_fresh.jsonl"),
    ("seed", "qa_seed_train.jsonl"),
    ("time", "qa_time_train.jsonl"),
)
HALVES = ("train", "tune", "confirm", "fresh")
FITS = (
    ("tune halves (product)", ("tune",)),
    ("tune halves + training sets", ("tune", "train")),
    ("training sets only", ("train",)),
)


FOLDS = 5


def _fit(groups: list[fa.Group], c: float, cols: Sequence[int]) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([g.x[:, cols] for g in groups])
    y = np.concatenate([g.y for g in groups]).astype(int)
    model = LogisticRegression(C=c, max_iter=4000, class_weight="balanced").fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def _count(groups: list[fa.Group], w: np.ndarray, b: float, cols: Sequence[int]) -> list[int]:
    m = fa.measure(groups, lambda g: g.x[:, cols] @ w + b, answer.PADDING_MARGIN, True)
    return [round(m["first"] * m["n"]), round(m["quoted"] * m["n"])]


def cross_validated(groups: list[fa.Group], names: Sequence[str]) -> list[dict[str, Any]]:
    """Each variant's held-out-fold counts over tune + train, and its confirm/fresh counts."""
    tuning = [g for g in groups if g.split in ("tune", "train")]
    rng = np.random.default_rng(0)
    fold: dict[int, int] = {}
    for name in names:
        ids = [i for i, g in enumerate(tuning) if g.dataset == name]
        for k, j in enumerate(rng.permutation(len(ids))):
            fold[ids[j]] = k % FOLDS
    every = list(range(len(evidence.FEATURES)))
    variants = [(f"C={c:g}", c, every) for c in (0.03, 0.1, 0.3, 1.0, 3.0)]
    variants += [
        (f"C=1 without {f}", 1.0, [i for i in every if evidence.FEATURES[i] != f])
        for f in evidence.FEATURES
    ]
    out = []
    for label, c, cols in variants:
        cv = {name: [0, 0] for name in names}
        for k in range(FOLDS):
            w, b = _fit([g for i, g in enumerate(tuning) if fold[i] != k], c, cols)
            for name in names:
                test = [g for i, g in enumerate(tuning) if fold[i] == k and g.dataset == name]
                cv[name] = [a + n for a, n in zip(cv[name], _count(test, w, b, cols), strict=True)]
        w, b = _fit(tuning, c, cols)
        check = {
            f"{n}/{h}": _count([g for g in groups if g.dataset == n and g.split == h], w, b, cols)
            for n in names
            for h in ("confirm", "fresh")
        }
        out.append({"variant": label, "cv": cv, "sum": sum(map(sum, cv.values())), **check})
        print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-fit-answer"))
    args = parser.parse_args()
    indexes = fa.dev_indexes(args.work)
    facts = machine()
    groups = [g for name, file in SETS for g in fa.collect(name, indexes[name], DATA / file, 0)]
    results: dict[str, Any] = {}
    for label, splits in FITS:
        w, b = fa.fit([g for g in groups if g.split in splits])
        row: dict[str, Any] = {"weights": [round(float(x), 4) for x in w], "bias": round(b, 4)}
        for name in indexes:
            for half in HALVES:
                part = [g for g in groups if g.dataset == name and g.split == half]
                row[f"{name}/{half}"] = fa.counts(part, lambda g, w=w, b=b: g.x @ w + b)
        results[label] = row
        print(label, row, flush=True)
    first = results[FITS[0][0]]
    lines = [
        "# The answer's combiner fitted on more questions (passage first / quoted)",
        "",
        f"Machine: {facts['nproc']} cores, {facts['cpu']}, load {facts['load_1min_at_start']} "
        f"at start ({facts['date']}). bench/eval_answer_train.py. Questions: "
        + ", ".join(f"{n} {h} {first[f'{n}/{h}']['n']}" for n in indexes for h in HALVES)
        + ". A cell is in sample where the fit used that half.",
        "",
        *fa.counts_table("fitted on", results, list(indexes), HALVES),
    ]
    lines.append("")
    for label, r in results.items():
        lines.append(f"- {label}: weights {r['weights']}, bias {r['bias']}")
    product = {
        f"{n}/{h}": _count(
            [g for g in groups if g.dataset == n and g.split == h],
            np.array(evidence.WEIGHTS),
            evidence.BIAS,
            list(range(len(evidence.FEATURES))),
        )
        for n in indexes
        for h in HALVES
    }
    cv = cross_validated(groups, list(indexes))
    checks = [f"{n}/{h}" for n in indexes for h in ("confirm", "fresh")]
    lines += [
        "",
        f"## Variants chosen by {FOLDS}-fold cross-validation over tune + train (first / quoted)",
        "",
        "The shipped weights (query/evidence.py): "
        + ", ".join(f"{k} {v[0]} / {v[1]}" for k, v in product.items())
        + ".",
        "",
        "| variant | CV seed | CV time | CV sum | " + " | ".join(checks) + " |",
        "|---" * (4 + len(checks)) + "|",
    ]
    for r in sorted(cv, key=lambda r: -r["sum"]):
        lines.append(
            f"| {r['variant']} | {r['cv']['seed'][0]} / {r['cv']['seed'][1]} | "
            f"{r['cv']['time'][0]} / {r['cv']['time'][1]} | {r['sum']} | "
            + " | ".join(f"{r[k][0]} / {r[k][1]}" for k in checks)
            + " |"
        )
    results["cross-validated"] = cv
    results["shipped weights"] = product
    print("\n".join(lines))
    save("answer_train", {"machine": facts, "results": results}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
