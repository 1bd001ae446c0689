"""Fit and measure the answer's sentence combiner on the QA dev sets (tune fits, confirm checks).

For every dev question (bench/data/qa_seed.jsonl on the seed article, qa_time.jsonl on TIME
1963) it searches the real index, takes the candidate sentences of the top N hits with the
features of coverage_search.query.evidence, and labels a sentence by whether it holds the
question's answer span. It then compares, on the tune and the confirm half of each set:

- the cosine baseline (the sentence's cosine plus a small rank prior, as before),
- a logistic regression over all features fitted on the tune halves of both sets,
- each with passages re-ranked by their best sentence,

and prints the weights to paste into query/evidence.py. Usage:

    python bench/fit_answer.py [--hits 5 8 10] [--out bench/results/fit_answer.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import SHARED_EVAL as SHARED  # noqa: E402
from machine import machine  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.evaluation import BeirData, load_beir_folder, write_corpus  # noqa: E402
from coverage_search.evaluation.qa import holds, load_qa  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import evidence  # noqa: E402
from coverage_search.query.answer import sentence_vectors  # noqa: E402
from coverage_search.query.terms import keyword_terms  # noqa: E402


@dataclass
class Group:
    """One question's candidates."""

    dataset: str
    split: str
    kind: str
    x: np.ndarray
    y: np.ndarray  # sentence holds the span
    hit_of: np.ndarray  # candidate → hit index
    hit_right: np.ndarray  # per hit: holds the span (in the right document)
    vectors: np.ndarray
    qkind: str = ""
    fused: np.ndarray = field(default_factory=lambda: np.zeros(0))


def seed_index(work: Path, chunking: ChunkSettings) -> Path:
    index = work / f"seed-index-{chunking.target_tokens}"
    CoverageIndex.build(HERE.parent / "corpus", index, chunking=chunking, progress=False)
    return index


def time_index(work: Path, chunking: ChunkSettings) -> Path:
    data: BeirData = load_beir_folder(SHARED / "time1963")
    corpus = work / "time-corpus"
    write_corpus(data, corpus)
    index = work / f"time-index-{chunking.target_tokens}"
    CoverageIndex.build(corpus, index, chunking=chunking, progress=False)
    return index


def collect(name: str, index_dir: Path, qa: Path, hits: int) -> list[Group]:
    index = CoverageIndex.open(index_dir)
    groups = []
    for q in load_qa(qa):
        found = index.search(q.question, k=hits)
        cands = evidence.candidates(found)
        if not cands:
            continue
        vectors = sentence_vectors(index.embedder, [c.sentence for c in cands])
        terms = keyword_terms(q.question)
        docs, passages = index.engine.term_docs(terms)
        weights = evidence.keyword_weights(terms, docs, passages)
        kind = evidence.question_kind(q.question)
        x = evidence.features(
            index.embedder.encode_query(q.question), kind, cands, vectors, found, weights
        )

        def doc(h: object) -> str:  # TIME files are "<BEIR id>.md"
            found = str(getattr(h, "doc_id", ""))
            return found.removesuffix(".md") if name == "time" else found

        right = np.array(
            [
                holds(h.text, q.answer_span) and (q.doc_id is None or doc(h) == q.doc_id)
                for h in found
            ]
        )
        y = np.array([holds(c.sentence, q.answer_span) and right[c.hit_index] for c in cands])
        groups.append(
            Group(
                name,
                q.split or "",
                q.kind or "",
                x,
                y,
                np.array([c.hit_index for c in cands]),
                right,
                vectors,
                kind,
            )
        )
    index.close()
    return groups


def best_scores(index_dir: Path, questions: list[str], w: np.ndarray, b: float) -> list[float]:
    """The best sentence's combiner score for each question (what the refusal threshold sees)."""
    index = CoverageIndex.open(index_dir)
    out = []
    for question in questions:
        found = index.search(question, k=5)
        cands = evidence.candidates(found)
        if not cands:
            out.append(-1e9)
            continue
        vectors = sentence_vectors(index.embedder, [c.sentence for c in cands])
        terms = keyword_terms(question)
        docs, passages = index.engine.term_docs(terms)
        x = evidence.features(
            index.embedder.encode_query(question),
            evidence.question_kind(question),
            cands,
            vectors,
            found,
            evidence.keyword_weights(terms, docs, passages),
        )
        out.append(float((x @ w + b).max()))
    index.close()
    return out


def choose(scores: np.ndarray, vectors: np.ndarray, floor: float, margin: float) -> list[int]:
    """The answer's greedy pick (2-4 sentences, near-repeats skipped), as query/answer.py does."""
    order = list(np.argsort(-scores))
    picked: list[int] = []
    for j in order:
        if len(picked) >= 4 or scores[j] < floor:
            break
        if len(picked) >= 2 and scores[j] < scores[order[0]] - margin:
            break
        if picked and float(np.max(vectors[picked] @ vectors[j])) > 0.9:
            continue
        picked.append(int(j))
    return picked


def measure(
    groups: list[Group], score, margin: float, rerank: bool, follower: bool = False
) -> dict[str, float]:
    quoted = first = top3 = 0
    for g in groups:
        s = score(g)
        picked = choose(s, g.vectors, -1e9, margin)
        top = picked[0] if picked else None
        if follower and top is not None and g.qkind in ("why", "how"):
            nxt = top + 1
            if nxt < len(g.hit_of) and g.hit_of[nxt] == g.hit_of[top] and nxt not in picked:
                picked = [*picked[:3], nxt]
        quoted += bool(g.y[picked].any())
        n_hits = len(g.hit_right)
        if rerank:
            best = np.full(n_hits, -1e9)
            for j, h in enumerate(g.hit_of):
                best[h] = max(best[h], s[j])
            order = list(np.argsort(-best, kind="stable"))
        else:
            order = list(range(n_hits))
        ranks = [r for r, h in enumerate(order, start=1) if g.hit_right[h]]
        first += bool(ranks and ranks[0] == 1)
        top3 += bool(ranks and ranks[0] <= 3)
    n = max(len(groups), 1)
    return {"n": len(groups), "quoted": quoted / n, "first": first / n, "top3": top3 / n}


def baseline(g: Group) -> np.ndarray:
    return g.x[:, 0] + 0.03 * g.x[:, 5]


def fit(groups: list[Group]) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([g.x for g in groups])
    y = np.concatenate([g.y for g in groups]).astype(int)
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    model.fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, nargs="+", default=[5, 8])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-fit-answer"))
    parser.add_argument("--margins", type=float, nargs="*", default=[1.0, 3.0, 5.0])
    parser.add_argument("--target-tokens", type=int, default=ChunkSettings().target_tokens)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fit_answer.md")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    chunking = ChunkSettings(target_tokens=args.target_tokens)
    indexes = {"seed": seed_index(args.work, chunking), "time": time_index(args.work, chunking)}
    data = {"seed": HERE / "data" / "qa_seed.jsonl", "time": HERE / "data" / "qa_time.jsonl"}
    facts = machine()
    lines = ["# Answer combiner", "", f"machine: {json.dumps(facts)}", ""]
    results = {}
    for hits in args.hits:
        groups = [g for name in indexes for g in collect(name, indexes[name], data[name], hits)]
        tune = [g for g in groups if g.split == "tune"]
        w, b = fit(tune)
        lr = lambda g, w=w, b=b: g.x @ w + b  # noqa: E731
        lines.append(f"## top {hits} hits")
        lines.append("")
        lines.append("| scorer | set | half | n | quoted | passage first | passage top 3 |")
        lines.append("|---|---|---|---|---|---|---|")
        for label, score, margin, rerank, *extra in (
            ("cosine (before)", baseline, 0.10, False),
            ("combiner", lr, 2.0, False),
            ("combiner + rerank", lr, 2.0, True),
            ("combiner + rerank + follower (why/how)", lr, 2.0, True, True),
            *[(f"combiner + rerank, margin {m}", lr, m, True) for m in args.margins],
        ):
            for name in indexes:
                for half in ("tune", "confirm"):
                    part = [g for g in groups if g.dataset == name and g.split == half]
                    m = measure(part, score, margin, rerank, *extra)
                    results[f"{hits}/{label}/{name}/{half}"] = m
                    lines.append(
                        f"| {label} | {name} | {half} | {m['n']} | {m['quoted']:.3f} | "
                        f"{m['first']:.3f} | {m['top3']:.3f} |"
                    )
        lines.append("")
        named = zip(evidence.FEATURES, w, strict=True)
        lines.append("weights: " + ", ".join(f"{f}={v:.4f}" for f, v in named))
        lines.append(f"bias: {b:.4f}")
        lines.append("")
    # The refusal threshold, with the weights of the first --hits setting refitted at 5 hits.
    groups = [g for name in indexes for g in collect(name, indexes[name], data[name], 5)]
    w, b = fit([g for g in groups if g.split == "tune"])
    offtopic = [json.loads(x)["question"] for x in (HERE / "data" / "qa_offtopic.jsonl").open()]
    lines.append("## refusal threshold (best sentence's score, 5 hits)")
    lines.append("")
    for name in indexes:
        answerable = [float((g.x @ w + b).max()) for g in groups if g.dataset == name]
        refused = best_scores(indexes[name], offtopic, w, b)
        lines.append(
            f"- {name}: answerable min {min(answerable):.2f}, 5th pct "
            f"{np.percentile(answerable, 5):.2f}; off-topic max {max(refused):.2f}, 95th pct "
            f"{np.percentile(refused, 95):.2f}; off-topic sorted: "
            + ", ".join(f"{v:.1f}" for v in sorted(refused)[-8:])
        )
        results[f"threshold/{name}"] = {"answerable": answerable, "offtopic": refused}
    lines.append("")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
