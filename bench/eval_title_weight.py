"""Title weight in the keyword index: how often a passage's title counts in its BM25 text.

Each passage's keyword text is its document's title, its heading and its text, the title once
(as FTS5's bm25() with weights 1, 1, 1 scored a row). A headline or paper title names what the
document is about, so counting it twice or three times (BM25F's field weight, approximated by
repeating the title: its terms' frequency grows, and so does the passage's length) may rank
the right document higher; leaving it out tests whether it helps at all. Every variant rebuilds
the keyword index only (`force`, the embedding cache reused) and scores keyword and hybrid
nDCG@10 on the tune and confirm halves. A weight is kept only if it wins both tune halves and
loses neither confirm half.

    .venv/bin/python bench/eval_title_weight.py [--weights 0 1 2 3] [--datasets time1963 scifact]

Writes bench/results/title_weight.json and .md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from eval_levers import measure, pooled
from evalkit import prepare
from machine import print_machine, save, table

from coverage_search.engine.base import BuildContent
from coverage_search.engine.local import engine, keywords

_ORIGINAL = keywords.keyword_rows


def with_title_weight(weight: int) -> None:
    """Make builds write each passage's keyword text with its title `weight` times."""

    def rows(content: BuildContent, ids: Sequence[int]) -> Iterator[keywords.KeywordRow]:
        flat = 0
        for row, (doc, group) in enumerate(
            zip(content.documents, content.passages, strict=True), 1
        ):
            outlet, day, language = (
                keywords.outlet_key(doc.outlet) or "",
                keywords.day_number(doc.published),
                (doc.language or "").lower(),
            )
            titles = [doc.title] * weight if doc.title else []
            for p in group:
                text = "\n".join(x for x in (*titles, p.heading, p.text) if x)
                yield keywords.KeywordRow(ids[flat], row, text, outlet, day, language)
                flat += 1

    # The engine imported the function by name: that is the one a build calls.
    engine.keyword_rows = _ORIGINAL if weight == 1 else rows  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=int, nargs="*", default=[1, 0, 2, 3])
    parser.add_argument("--datasets", nargs="*", default=["time1963", "scifact"])
    args = parser.parse_args()
    info = print_machine()
    rows: list[dict[str, Any]] = []
    for name in args.datasets:
        for weight in args.weights:
            with_title_weight(weight)
            prep = prepare(name, progress=False, force=True)
            try:
                result = measure(prep, ("keyword", "hybrid"), pooled("max"))
            finally:
                prep.index.close()
            print(name, weight, result, flush=True)
            rows.append({"dataset": name, "title_weight": weight, **result})
        with_title_weight(1)
        prepare(name, progress=False, force=True).index.close()  # leave the default build live
    md = [
        [r["dataset"], str(r["title_weight"])]
        + [f"{r[m]['tune']:.4f} / {r[m]['confirm']:.4f}" for m in ("keyword", "hybrid")]
        for r in rows
    ]
    header = (
        "# Title weight in the keyword index (nDCG@10 tune / confirm)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load "
        f"{info['load_1min_at_start']} at start ({info['date']}). Command: "
        f"`python {' '.join(sys.argv)}`.\n\n"
    )
    save(
        "title_weight",
        {"rows": rows},
        header + table(["dataset", "title weight", "keyword", "hybrid"], md),
    )


if __name__ == "__main__":
    main()
