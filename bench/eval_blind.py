"""The blind QA check sets through the product: what to expect on questions nobody tuned for.

    .venv/bin/python bench/eval_blind.py [--work DIR]

bench/data/qa_{seed,time,offtopic}_blind.jsonl and *_blind2.jsonl were written by two separate
sessions that saw neither the dev sets nor the code, after every setting was chosen; they are
never used to choose. Each set is asked through `evaluate_qa` (as `coverage-search eval --qa`
does) on the seed article and on TIME 1963, with its own off-topic file, once as shipped and
once without the unknown-names rule (query/names.py). Writes bench/results/qa_blind.json/.md.
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

from coverage_search.evaluation import evaluate_qa, load_qa, load_refusals  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import answer  # noqa: E402

SETS = ("blind", "blind2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    args = parser.parse_args()
    info = print_machine()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = corpora(args.work)
    product = answer.UNKNOWN_NAME_MARGIN
    rows: list[dict[str, Any]] = []
    for corpus in ("seed", "time"):
        index_dir = build(sources[corpus], args.work / f"{corpus}-names", ChunkSettings())
        for name in SETS:
            questions = load_qa(HERE / "data" / f"qa_{corpus}_{name}.jsonl")
            refusals = load_refusals(HERE / "data" / f"qa_offtopic_{name}.jsonl")
            for margin in (product, 0.0):
                answer.UNKNOWN_NAME_MARGIN = margin
                report = evaluate_qa(
                    questions, refusals=refusals, index_dir=index_dir, progress=False
                )
                o = report.overall
                why_how = [report.by_kind[k] for k in ("why", "how") if k in report.by_kind]
                row = {
                    "corpus": corpus, "set": name, "rule": "shipped" if margin else "off",
                    "n": o.questions, "first": o.passage_first, "top3": o.passage_top3,
                    "article": o.document_first, "quoted": o.quoted, "refused": o.refused,
                    "why_how": f"{sum(s.quoted for s in why_how)} of "
                    f"{sum(s.questions for s in why_how)}",
                    "offtopic": f"{report.false_answers} of {report.offtopic}",
                }  # fmt: skip
                print(row, flush=True)
                rows.append(row)
    answer.UNKNOWN_NAME_MARGIN = product
    keys = ("corpus", "set", "rule", "n", "first", "top3", "article", "quoted", "why_how")
    md = (
        "# Blind QA check sets\n\n"
        f"`python bench/eval_blind.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start, {info['date']}). Rule: the unknown-names "
        "rule as shipped, or off (margin 0).\n\n"
        + table(
            [*keys, "refused", "off-topic answered"],
            [[*(r[k] for k in keys), r["refused"], r["offtopic"]] for r in rows],
        )
        + "\n"
    )
    save("qa_blind", {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
