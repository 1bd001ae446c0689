"""Where to set answer.MIN_RELEVANCE: best-sentence cosine for questions the corpus answers vs not.

    PYTHONPATH=src .venv/bin/python bench/answer_threshold.py [--time-queries 12]

Three groups, each question asked through the real engine (hybrid search, top 5, then
sentence scoring): questions about the seed article (answerable), off-topic questions against
the same index (must be refused), and TIME 1963 queries against an index of their own judged
documents plus as many unjudged ones (answerable, other wording and era), and the same TIME
queries against the seed article (must be refused). A good threshold sits between the lowest
answerable score and the highest refused one. Results: bench/results/answer_threshold.json/.md.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from machine import REPO, SHARED_EVAL, print_machine, save, table

from coverage_search import CoverageIndex
from coverage_search.query.answer import MIN_RELEVANCE, score_sentences

ON_TOPIC = [
    "Why did Dario Amodei leave OpenAI?",
    "What did Anthropic say about tokenized shares?",
    "What is Anthropic's Responsible Scaling Policy?",
    "When did Amodei join OpenAI?",
    "Who left OpenAI with Dario Amodei?",
    "Is Anthropic against scaling?",
    "How does Claude compete with GPT models?",
    "What do critics say about AI safety policies?",
    "When did OpenAI announce Amodei was leaving?",
    "What are scaling laws?",
    "Why is OpenAI's structure under strain?",
    "Why are Windows users exposed to the AI rivalry?",
]
OFF_TOPIC = [
    "What is the boiling point of tungsten?",
    "Best pizza in Naples",
    "How do I change a car tire?",
    "Who won the 1998 World Cup?",
    "Recipe for chocolate chip cookies",
    "What is the capital of Australia?",
    "How tall is Mount Everest?",
    "Symptoms of the common cold",
    "Rules of castling in chess",
    "Weather forecast for London tomorrow",
]


def best(index: CoverageIndex, question: str) -> float:
    """The highest sentence cosine among the top-5 hybrid hits: what MIN_RELEVANCE is tested on."""
    scored, _ = score_sentences(question, index.search(question, k=5), index.embedder)
    return max((s.relevance for s in scored), default=0.0)


def time_subset(root: Path, queries: int, seed: int) -> tuple[Path, list[str]]:
    """A corpus of the judged documents of `queries` TIME queries plus as many unjudged ones."""
    folder = SHARED_EVAL / "time1963"
    rows = [json.loads(line) for line in (folder / "corpus.jsonl").open()]
    docs = {r["id"]: r for r in rows}
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels.tsv").read_text().splitlines()[1:]:
        qid, did, _ = line.split("\t")
        qrels.setdefault(qid, set()).add(did)
    all_queries = [json.loads(line) for line in (folder / "queries.jsonl").open()]
    rng = random.Random(seed)
    chosen = rng.sample([q for q in all_queries if q["id"] in qrels], queries)
    judged = set().union(*(qrels[q["id"]] for q in chosen))
    others = rng.sample(sorted(set(docs) - judged), len(judged))
    corpus = root / "time-corpus"
    corpus.mkdir()
    for did in sorted(judged | set(others)):
        (corpus / f"time-{did}.txt").write_text(docs[did]["text"], encoding="utf-8")
    return corpus, [q["text"] for q in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-queries", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    info = print_machine()
    groups: dict[str, list[tuple[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        CoverageIndex.build(REPO / "corpus", root / "seed-index", progress=False)
        seed = CoverageIndex.open(root / "seed-index")
        groups["article: on-topic (answer)"] = [(q, best(seed, q)) for q in ON_TOPIC]
        groups["article: off-topic (refuse)"] = [(q, best(seed, q)) for q in OFF_TOPIC]
        if (SHARED_EVAL / "time1963").is_dir():
            corpus, queries = time_subset(root, args.time_queries, args.seed)
            CoverageIndex.build(corpus, root / "time-index", progress=False)
            time_index = CoverageIndex.open(root / "time-index")
            groups["TIME 1963 on its documents (answer)"] = [
                (q, best(time_index, q)) for q in queries]
            groups["TIME 1963 on the article (refuse)"] = [(q, best(seed, q)) for q in queries]
        else:
            print(f"skipping TIME 1963: {SHARED_EVAL / 'time1963'} is not there")

    rows = []
    for name, scores in groups.items():
        values = sorted(s for _, s in scores)
        rows.append([name, len(values), values[0], values[len(values) // 2], values[-1]])
        for q, s in sorted(scores, key=lambda x: x[1]):
            print(f"{s:.3f}  {name[:24]:24}  {q[:80]}")
    answer_low = min(r[2] for r in rows if "(answer)" in r[0])
    refuse_high = max(r[4] for r in rows if "(refuse)" in r[0])
    md = table(["group", "questions", "min", "median", "max"], rows)
    md += (f"\n\nLowest answerable {answer_low:.3f}, highest refused {refuse_high:.3f}; "
           f"MIN_RELEVANCE = {MIN_RELEVANCE}.")
    print(md)
    save("answer_threshold", {"groups": {k: dict(v) for k, v in groups.items()},
                              "min_relevance": MIN_RELEVANCE, "answerable_min": answer_low,
                              "refused_max": refuse_high, "machine_printed": info}, md)


if __name__ == "__main__":
    main()
