"""Fit and measure the answer's sentence combiner on the QA dev sets (tune fits, confirm checks).

For every dev question (bench/data/qa_seed.jsonl on the seed article, qa_time.jsonl on TIME
1963) it searches the real index, takes the candidate sentences of the top N hits with the
features of coverage_search.query.evidence, and labels a sentence by whether it holds the
question's answer span. It then compares, on the tune and the confirm half of each set:

- the cosine baseline (the sentence's cosine plus a small rank prior, as before),
- a logistic regression over all features fitted on the tune halves of both sets,
- each with passages re-ranked by their best sentence,

and prints the weights to paste into query/evidence.py. Usage:

    python bench/fit_answer.py [--hits 0 5 8] [--per-document 0] [--topic-share 0.67]
                               [--out bench/results/fit_answer.md]

(--hits 0: the product's own pool, query/answer.answer_pool.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
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
from coverage_search.query import answer, evidence  # noqa: E402
from coverage_search.query.aliases import expand_aliases  # noqa: E402


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


def dev_indexes(work: Path, chunking: ChunkSettings | None = None) -> dict[str, Path]:
    """The seed article's and TIME 1963's indexes the answer benches read (built when absent)."""
    work.mkdir(parents=True, exist_ok=True)
    chunking = chunking or ChunkSettings()
    return {"seed": seed_index(work, chunking), "time": time_index(work, chunking)}


PER_DOCUMENT = answer.ANSWER_PER_DOCUMENT  # --per-document sets it


def pool(index: CoverageIndex, question: str, hits: int) -> list:
    """The answer's pool of hits: the top `hits`, or with 0 the product's own (answer_pool)."""
    if hits == 0:
        found = index.search(
            question,
            k=answer.ANSWER_POOL,
            per_document=PER_DOCUMENT,
            document_prior=answer.ANSWER_DOCUMENT_PRIOR,
        )
        return list(answer.answer_pool(found))
    return index.search(
        question, k=hits, per_document=PER_DOCUMENT, document_prior=answer.ANSWER_DOCUMENT_PRIOR
    )


def rows(index: CoverageIndex, question: str, found: list) -> tuple[list, np.ndarray, np.ndarray]:
    """The product's own candidates, feature rows and sentence vectors for one question."""
    question = expand_aliases(question)  # as the product scores it
    weights = evidence.question_weights(index.engine, question)
    with patched_hits(len(found)):
        scored, vectors = answer.score_sentences(question, found, index.embedder, weights)
    x = np.array([s.features for s in scored], dtype=np.float64).reshape(len(scored), -1)
    return [s.candidate for s in scored], x, vectors


class patched_hits:
    """Score the sentences of all `n` hits (the product scores its first ANSWER_HITS)."""

    def __init__(self, n: int) -> None:
        self.n, self.saved = n, answer.ANSWER_HITS

    def __enter__(self) -> None:
        answer.ANSWER_HITS = self.n

    def __exit__(self, *exc: object) -> None:
        answer.ANSWER_HITS = self.saved


def collect(name: str, index_dir: Path, qa: Path, hits: int) -> list[Group]:
    index = CoverageIndex.open(index_dir)
    groups = []
    for q in load_qa(qa):
        found = pool(index, q.question, hits)
        cands, x, vectors = rows(index, q.question, found)
        if not cands:
            continue

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
                evidence.question_kind(q.question),
            )
        )
    index.close()
    return groups


def best_scores(index_dir: Path, questions: list[str], w: np.ndarray, b: float) -> list[float]:
    """The best sentence's combiner score for each question (what the refusal threshold sees)."""
    index = CoverageIndex.open(index_dir)
    out = []
    for question in questions:
        _, x, _ = rows(index, question, pool(index, question, 5))
        out.append(float((x @ w + b).max()) if len(x) else -1e9)
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


def counts(groups: list[Group], score) -> dict[str, int]:
    """Questions, passage first and quoted under `score`, as the product answers (rerank on)."""
    m = measure(groups, score, answer.PADDING_MARGIN, True)
    n = m["n"]
    return {"n": n, "first": round(m["first"] * n), "quoted": round(m["quoted"] * n)}


def counts_table(
    first: str, results: dict, names: Sequence[str], halves: Sequence[str]
) -> list[str]:
    """Markdown rows of `results` (label → {"<name>/<half>": counts}) as passage first / quoted."""
    lines = [
        f"| {first} | " + " | ".join(f"{n} {h}" for n in names for h in halves) + " |",
        "|---" * (1 + len(names) * len(halves)) + "|",
    ]
    for label, r in results.items():
        cells = [
            f"{r[f'{n}/{h}']['first']} / {r[f'{n}/{h}']['quoted']}" for n in names for h in halves
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


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
    parser.add_argument(
        "--per-document", type=int, default=answer.ANSWER_PER_DOCUMENT, help="pool cap (0: none)"
    )
    parser.add_argument(
        "--without", nargs="*", default=[], choices=evidence.FEATURES, help="features zeroed"
    )
    parser.add_argument("--topic-share", type=float, default=evidence.TOPIC_SHARE)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fit_answer.md")
    args = parser.parse_args()
    global PER_DOCUMENT
    PER_DOCUMENT = args.per_document
    evidence.TOPIC_SHARE = args.topic_share
    args.work.mkdir(parents=True, exist_ok=True)
    chunking = ChunkSettings(target_tokens=args.target_tokens)
    indexes = {"seed": seed_index(args.work, chunking), "time": time_index(args.work, chunking)}
    data = {"seed": HERE / "data" / "qa_seed.jsonl", "time": HERE / "data" / "qa_time.jsonl"}
    facts = machine()
    lines = ["# Answer combiner", "", f"machine: {json.dumps(facts)}", ""]
    lines.append(
        f"pool: per_document={PER_DOCUMENT}, topic share={evidence.TOPIC_SHARE}, "
        f"without: {', '.join(args.without) or 'none'}"
    )
    lines.append("")
    results = {}
    for hits in args.hits:
        groups = [g for name in indexes for g in collect(name, indexes[name], data[name], hits)]
        for g in groups:  # a feature left out is a column of zeros (weight 0 after the fit)
            g.x[:, [evidence.FEATURES.index(f) for f in args.without]] = 0.0
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
