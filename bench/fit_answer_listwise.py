"""A listwise fit of the answer's combiner (conditional logit per question) against the shipped one.

The shipped weights (query/evidence.py) come from a logistic regression over all candidate
sentences (bench/fit_answer.py). Here the same features of the same pool (the product's own,
query/answer.answer_pool) are fitted per question instead: a softmax over each question's
candidates, maximizing the probability of the sentences that hold the span, L2 weight `lam`,
on the tune halves only. Each scorer is replayed as the product chooses (rerank, margin 5).

    python bench/fit_answer_listwise.py [--work /tmp/coverage-fit-answer]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fit_answer as fa  # noqa: E402
from machine import machine, save, table  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import evidence  # noqa: E402


def listwise(groups: list[fa.Group], lam: float) -> tuple[np.ndarray, float]:
    """Weights and bias (in the features' own units) of a per-question softmax fit."""
    x_all = np.vstack([g.x for g in groups])
    mu, sd = x_all.mean(0), x_all.std(0) + 1e-9
    scaled = [((g.x - mu) / sd, g.y.astype(bool)) for g in groups if g.y.any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = lam * float(w @ w), 2 * lam * w
        for x, pos in scaled:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            held = p[pos].sum()
            total -= float(np.log(held + 1e-12))
            grad = grad - (p[pos] @ x[pos]) / held + p @ x
        return total, grad

    w = minimize(loss, np.zeros(len(mu)), jac=True, method="L-BFGS-B").x
    return w / sd, float(-(mu / sd) @ w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-fit-answer"))
    parser.add_argument("--lam", type=float, nargs="+", default=[0.01, 0.1, 1.0, 3.0])
    args = parser.parse_args()
    info = machine()
    args.work.mkdir(parents=True, exist_ok=True)
    chunking = ChunkSettings()
    indexes = {
        "seed": fa.seed_index(args.work, chunking),
        "time": fa.time_index(args.work, chunking),
    }
    data = {"seed": HERE / "data" / "qa_seed.jsonl", "time": HERE / "data" / "qa_time.jsonl"}
    groups = [g for name in indexes for g in fa.collect(name, indexes[name], data[name], 0)]
    tune = [g for g in groups if g.split == "tune"]
    shipped = (np.array(evidence.WEIGHTS), evidence.BIAS)
    scorers = {
        "shipped (logistic regression)": shipped,
        "logistic regression, refitted": fa.fit(tune),
    }
    for lam in args.lam:
        scorers[f"listwise, lam {lam}"] = listwise(tune, lam)
    rows, results = [], {}
    for label, (w, b) in scorers.items():
        cells: list[object] = [label]
        for name in indexes:
            for half in ("tune", "confirm"):
                part = [g for g in groups if g.dataset == name and g.split == half]
                m = fa.measure(part, lambda g, w=w, b=b: g.x @ w + b, 5.0, True)
                results[f"{label}/{name}/{half}"] = m
                cells.append(f"{round(m['first'] * m['n'])} / {round(m['quoted'] * m['n'])}")
        rows.append(cells)
    heads = ["scorer"] + [f"{n} {h} first / quoted" for n in indexes for h in ("tune", "confirm")]
    markdown = "\n".join([
        "# Answer combiner: listwise fit against the shipped one",
        "",
        f"Machine: {info['nproc']} cores, {info['cpu']}, load {info['load_1min_at_start']} at "
        "start. The product's pool; replayed with rerank and margin 5 (bench/fit_answer.py).",
        "",
        table(heads, rows),
        "",
    ])  # fmt: skip
    save("fit_answer_listwise", results, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
