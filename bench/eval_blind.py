"""The blind QA check sets through the product: what to expect on questions nobody tuned for.

    .venv/bin/python bench/eval_blind.py [--work DIR] [--compare names|rewrite]

bench/data/qa_{seed,time,offtopic}_blind.jsonl and *_blind2.jsonl were written by two separate
sessions that saw neither the dev sets nor the code, after every setting was chosen; they are
never used to choose. Each set is asked through `evaluate_qa` (as `coverage-search eval --qa`
does) on the seed article and on TIME 1963, with its own off-topic file, once as shipped and
once without the unknown-names rule (query/names.py; `--compare names`, bench/results/
qa_blind.json/.md) or without the question rewrite (SearchSettings.question_rewrite "off";
`--compare rewrite`, results/qa_blind_rewrite.json/.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import print_machine, save, table  # noqa: E402
from qa_levers import build, corpora  # noqa: E402

from coverage_search import CoverageIndex, SearchHit, SearchSettings  # noqa: E402
from coverage_search.evaluation import load_qa, load_refusals  # noqa: E402
from coverage_search.evaluation.qa import QAScores, ask_all  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import answer  # noqa: E402

SETS = ("blind", "blind2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    parser.add_argument("--compare", choices=("names", "rewrite"), default="names")
    args = parser.parse_args()
    info = print_machine()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = corpora(args.work)
    product = answer.UNKNOWN_NAME_MARGIN
    rows: list[dict[str, Any]] = []
    for corpus in ("seed", "time"):
        index_dir = build(sources[corpus], args.work / f"{corpus}-names", ChunkSettings())
        suffix = ".md" if corpus == "time" else ""  # TIME's doc ids are BEIR's, files are .md

        def doc_of(hit: SearchHit, suffix: str = suffix) -> str:
            return hit.doc_id.removesuffix(suffix) if suffix else hit.doc_id

        for name in SETS:
            questions = load_qa(HERE / "data" / f"qa_{corpus}_{name}.jsonl")
            refusals = load_refusals(HERE / "data" / f"qa_offtopic_{name}.jsonl")
            for shipped in (True, False):
                off = SearchSettings(question_rewrite="off")
                answer.UNKNOWN_NAME_MARGIN = product if shipped or args.compare != "names" else 0.0
                settings = off if not shipped and args.compare == "rewrite" else SearchSettings()
                index = CoverageIndex.open(index_dir, settings=settings)
                outcomes, answered, _ = ask_all(
                    index, questions, refusals, doc_of=doc_of, progress=False
                )
                index.close()
                o = QAScores.of(outcomes)
                why_how = [x for x in outcomes if x.kind in ("why", "how")]
                row = {
                    "corpus": corpus, "set": name, "rule": "shipped" if shipped else "off",
                    "n": o.questions, "first": o.passage_first, "top3": o.passage_top3,
                    "article": o.document_first, "quoted": o.quoted, "refused": o.refused,
                    "why_how": f"{sum(x.quoted for x in why_how)} of {len(why_how)}",
                    "offtopic": f"{len(answered)} of {len(refusals)}",
                }  # fmt: skip
                print(row, flush=True)
                rows.append(row)
    answer.UNKNOWN_NAME_MARGIN = product
    keys = ("corpus", "set", "rule", "n", "first", "top3", "article", "quoted", "why_how")
    md = (
        "# Blind QA check sets\n\n"
        f"`python bench/eval_blind.py --compare {args.compare}` ({info['nproc']} cores, "
        f"{info['cpu']}, load {info['load_1min_at_start']} at start, {info['date']}). "
        + (
            "Rule: the unknown-names rule as shipped, or off (margin 0)."
            if args.compare == "names"
            else "Rule: the question rewrite as shipped (template), or off."
        )
        + "\n\n"
        + table(
            [*keys, "refused", "off-topic answered"],
            [[*(r[k] for k in keys), r["refused"], r["offtopic"]] for r in rows],
        )
        + "\n"
    )
    name = "qa_blind" if args.compare == "names" else "qa_blind_rewrite"
    save(name, {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
