"""Which hits an answer reads its sentences from (query/answer.answer_pool), per half.

Every variant runs the product's own answer path (CoverageIndex.answer, each index opened
afresh so its refusal bar is measured with the same pool) on the seed article and TIME 1963
dev sets, and on the off-topic questions:

- first 5: the first ANSWER_HITS hits only (the rule before);
- first 15: the first 15 hits, whatever their document;
- 5 + same documents: later passages of any document among the first 5;
- 5 + the story (the default): later passages of a document holding most of the first 5,
  to rank 10 or 15.

    python bench/eval_pool.py [--work /tmp/coverage-qa]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine, save, table  # noqa: E402
from qa_levers import DATA, corpora  # noqa: E402

import coverage_search.query.answer as answer  # noqa: E402
from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.evaluation.qa import QAScores, ask_all, load_qa, load_refusals  # noqa: E402
from coverage_search.records import SearchHit  # noqa: E402

Pool = Callable[[Sequence[SearchHit]], tuple[SearchHit, ...]]
DEFAULT, DEPTH = answer.answer_pool, answer.ANSWER_POOL


def first(n: int) -> Pool:
    return lambda hits: tuple(hits[:n])


def same_documents(hits: Sequence[SearchHit]) -> tuple[SearchHit, ...]:
    head = tuple(hits[: answer.ANSWER_HITS])
    docs = {h.doc_id for h in head}
    return head + tuple(h for h in hits[answer.ANSWER_HITS : 15] if h.doc_id in docs)


def the_story_to(depth: int) -> Pool:
    def pool(hits: Sequence[SearchHit]) -> tuple[SearchHit, ...]:
        return DEFAULT(hits[:depth])

    return pool


VARIANTS: dict[str, tuple[Pool, int]] = {
    "first 5": (first(5), 5),
    "first 15": (first(15), 15),
    "5 + same documents": (same_documents, 15),
    "5 + the story to rank 10": (the_story_to(10), 10),
    "5 + the story to rank 15": (the_story_to(15), 15),
    "5 + the story (default)": (DEFAULT, DEPTH),
}


def run(name: str, index_dir: Path, pool: Pool, depth: int) -> dict[str, dict[str, int]]:
    answer.answer_pool, answer.ANSWER_POOL = pool, depth
    try:
        index = CoverageIndex.open(index_dir)
        offtopic = load_refusals(HERE / "data" / "qa_offtopic.jsonl")
        outcomes, answered, _ = ask_all(
            index,
            load_qa(DATA[name]),
            offtopic,
            doc_of=lambda h: h.doc_id.removesuffix(".md") if name == "time" else h.doc_id,
            progress=False,
        )
        index.close()
    finally:
        answer.answer_pool, answer.ANSWER_POOL = DEFAULT, DEPTH
    out = {}
    for half in ("tune", "confirm"):
        s = QAScores.of([o for o in outcomes if o.split == half])
        out[half] = {"n": s.questions, "first": s.passage_first, "top3": s.passage_top3,
                     "quoted": s.quoted, "refused": s.refused}  # fmt: skip
    out["offtopic answered"] = {"n": len(offtopic), "answered": len(answered)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa"))
    args = parser.parse_args()
    info = machine()
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    rows = []
    for name, corpus in corpora(args.work).items():
        index_dir = args.work / f"{name}-index"
        CoverageIndex.build(corpus, index_dir, progress=False)
        for variant, (pool, depth) in VARIANTS.items():
            r = run(name, index_dir, pool, depth)
            results.setdefault(name, {})[variant] = r
            for half in ("tune", "confirm"):
                h = r[half]
                rows.append([name, half, variant, h["first"], h["top3"], h["quoted"],
                             h["refused"], h["n"], r["offtopic answered"]["answered"]])  # fmt: skip
            print(name, variant, r, flush=True)
    markdown = "\n".join([
        "# The answer's pool of hits (query/answer.answer_pool)",
        "",
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load "
        f"{info['load_1min_at_start']} at start. Product defaults otherwise; off-topic: the 36 "
        "questions of bench/data/qa_offtopic.jsonl.",
        "",
        table(["set", "half", "pool", "passage first", "top 3", "quoted", "refused",
               "questions", "off-topic answered"], rows),
        "",
    ])  # fmt: skip
    save("answer_pool", results, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
