"""Longer glue-word lists for the question's keywords: BEIR nDCG@10 and the QA sets, tune and
confirm halves side by side.

    .venv/bin/python bench/eval_stopwords.py [--datasets scifact time1963] [--work DIR]

query/terms.py drops about a hundred glue words from a query's keywords. Words such as
"before", "after", "during" or "between" stay, and in a question about one article a rare one
decides the keyword ranking ("What was Amodei's job title ... before he walked out?" ranked
first the one passage holding "before"); so do the words a reader uses of the article itself
("What does the writer say ..."). Variants: the product's list; plus the rest of a standard
English list (NLTK's); plus words that refer to the coverage rather than its subject. Keyword
and hybrid nDCG@10 on ../shared/eval, and the QA dev halves, the training sets and the fresh
sets through CoverageIndex.answer. Writes bench/results/stopwords.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from evalkit import prepare, rankings, scores  # noqa: E402
from machine import print_machine, save, table  # noqa: E402
from qa_levers import build, corpora, half_counts  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.evaluation.qa import ask_all, load_qa  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import terms  # noqa: E402

PRODUCT = terms._STOPWORDS
# The rest of NLTK's English list, without the pieces of its contractions (didn, wouldn, ...).
STANDARD = frozenset(
    """
    myself ours ourselves yours yourself yourselves himself hers herself itself theirs
    themselves am but because until while against between through during before after above
    below off all any both each few more most other some such nor only own same now
    """.split()  # noqa: SIM905
)
# Words a reader uses of the coverage itself, not of what it reports.
META = frozenset(
    """
    writer writers author authors article articles piece say says said mention mentions
    mentioned describe describes described according
    """.split()  # noqa: SIM905
)
VARIANTS = {
    "product": PRODUCT,
    "+ standard": PRODUCT | STANDARD,
    "+ meta": PRODUCT | META,
    "+ standard + meta": PRODUCT | STANDARD | META,
}
QA_FILES = {
    corpus: [HERE / "data" / f"qa_{corpus}{tail}.jsonl" for tail in ("", "_train", "_fresh")]
    for corpus in ("seed", "time")
}


def beir(name: str) -> list[dict[str, Any]]:
    prep = prepare(name, progress=False)
    rows = []
    for label, words in VARIANTS.items():
        terms._STOPWORDS = words
        row: dict[str, Any] = {"dataset": name, "variant": label}
        for mode in ("keyword", "hybrid"):
            ranked = rankings(prep, prep.tune + prep.confirm, mode=mode)
            for half, ids in (("tune", prep.tune), ("confirm", prep.confirm)):
                got = scores(prep, {q: ranked[q] for q in ids})["ndcg_at_10"]
                row[f"{mode} {half}"] = round(got, 4)
        terms._STOPWORDS = PRODUCT
        print(row, flush=True)
        rows.append(row)
    prep.index.close()
    return rows


def qa(work: Path) -> list[dict[str, Any]]:
    sources = corpora(work)
    rows = []
    for corpus in ("seed", "time"):
        index_dir = build(sources[corpus], work / f"{corpus}-names", ChunkSettings())
        questions = []
        for path in QA_FILES[corpus]:
            loaded = load_qa(path)
            if path.stem.endswith("_fresh"):
                loaded = [dataclasses.replace(q, split="fresh") for q in loaded]
            questions += loaded
        for label, words in VARIANTS.items():
            terms._STOPWORDS = words
            index = CoverageIndex.open(index_dir)
            outcomes, _, _ = ask_all(
                index,
                questions,
                [],
                doc_of=lambda h, c=corpus: (
                    h.doc_id.removesuffix(".md") if c == "time" else h.doc_id
                ),
                progress=False,
            )
            index.close()
            terms._STOPWORDS = PRODUCT
            row: dict[str, Any] = {"corpus": corpus, "variant": label}
            for half in ("tune", "confirm", "train", "fresh"):
                row[half] = half_counts(outcomes, half)
            print(row, flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    parser.add_argument("--skip-beir", action="store_true")
    args = parser.parse_args()
    info = print_machine()
    args.work.mkdir(parents=True, exist_ok=True)
    qa_rows = qa(args.work)
    beir_rows = [] if args.skip_beir else [r for name in args.datasets for r in beir(name)]
    md = [
        "# Glue words in the question's keywords\n",
        f"`python bench/eval_stopwords.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start). QA cells: answer passage first / right "
        "article first / answer quotes the span (seed: article first is always right). "
        "Halves: dev tune, dev confirm, the training sets (never fitted on) and the fresh "
        "sets (never used to choose).\n",
    ]
    cells = []
    for r in qa_rows:
        cells.append(
            [r["corpus"], r["variant"]]
            + [
                f"{r[h]['first']} / {r[h]['doc_first']} / {r[h]['quoted']} of {r[h]['n']}"
                + (f", {r[h]['refused']} refused" if r[h]["refused"] else "")
                for h in ("tune", "confirm", "train", "fresh")
            ]
        )
    md.append(table(["set", "glue words", "tune", "confirm", "train", "fresh"], cells))
    if beir_rows:
        md.append("\nBEIR nDCG@10 (tune / confirm):\n")
        md.append(
            table(
                ["dataset", "glue words", "keyword", "hybrid"],
                [
                    [
                        r["dataset"],
                        r["variant"],
                        f"{r['keyword tune']:.4f} / {r['keyword confirm']:.4f}",
                        f"{r['hybrid tune']:.4f} / {r['hybrid confirm']:.4f}",
                    ]
                    for r in beir_rows
                ],
            )
        )
    save("stopwords", {"machine": info, "qa": qa_rows, "beir": beir_rows}, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
