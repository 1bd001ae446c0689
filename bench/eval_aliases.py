"""Company and people descriptions searched as names (query/aliases.py): on and off, per half.

The seed article's dev questions are asked with the product's defaults, once as the product
runs (descriptions such as "the ChatGPT maker" replaced by "OpenAI") and once with the query
left as typed; TIME 1963, SciFact and the off-topic questions are only counted, since no
description fires on them (so their answers and nDCG@10 are unchanged by construction).

    python bench/eval_aliases.py [--index index]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import SHARED_EVAL, machine, save, table  # noqa: E402
from qa_levers import DATA  # noqa: E402

import coverage_search.query.aliases as aliases  # noqa: E402
import coverage_search.query.answer as answer  # noqa: E402
import coverage_search.query.search as search  # noqa: E402
from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.evaluation.qa import QAScores, ask_all, load_qa  # noqa: E402

COUNTED = {
    "seed dev": DATA["seed"],
    "TIME dev": DATA["time"],
    "off-topic": HERE / "data" / "qa_offtopic.jsonl",
    "SciFact queries": SHARED_EVAL / "scifact" / "queries.jsonl",
    "TIME queries": SHARED_EVAL / "time1963" / "queries.jsonl",
}


@contextmanager
def aliases_off() -> Iterator[None]:
    """The query as typed everywhere the product expands it."""
    saved = aliases.expand_aliases
    for module in (aliases, answer, search):
        module.expand_aliases = lambda q: q  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in (aliases, answer, search):
            module.expand_aliases = saved  # type: ignore[attr-defined]


def scores(index_dir: Path) -> dict[str, dict[str, int]]:
    index = CoverageIndex.open(index_dir)
    outcomes, _, _ = ask_all(
        index, load_qa(DATA["seed"]), [], doc_of=lambda h: h.doc_id, progress=False
    )
    index.close()
    out = {}
    for half in ("tune", "confirm"):
        s = QAScores.of([o for o in outcomes if o.split == half])
        out[half] = {"n": s.questions, "first": s.passage_first, "top3": s.passage_top3,
                     "quoted": s.quoted, "refused": s.refused}  # fmt: skip
    return out


def fired(path: Path) -> tuple[int, int]:
    if not path.is_file():
        return 0, 0
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    texts = [r.get("question") or r.get("text") or "" for r in rows]
    return sum(aliases.expand_aliases(t) != t for t in texts), len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=HERE.parent / "index")
    args = parser.parse_args()
    info = machine()
    with aliases_off():
        off = scores(args.index)
    on = scores(args.index)
    counts = {name: fired(path) for name, path in COUNTED.items()}
    rows = [
        [half, variant, r["first"], r["top3"], r["quoted"], r["refused"], r["n"]]
        for variant, result in (("as typed", off), ("names (default)", on))
        for half, r in result.items()
    ]
    markdown = "\n".join([
        "# Descriptions searched as names (query/aliases.py)",
        "",
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load "
        f"{info['load_1min_at_start']} at start. Seed article dev set, product defaults.",
        "",
        table(["half", "query", "passage first", "top 3", "quoted", "refused", "questions"],
              sorted(rows, key=lambda r: (r[0] != "tune", r[1]))),
        "",
        "Questions a description fired on (the rest are searched exactly as typed):",
        "",
        table(["set", "fired", "questions"], [[n, a, b] for n, (a, b) in counts.items()]),
        "",
    ])  # fmt: skip
    save("aliases", {"off": off, "on": on, "fired": counts}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
