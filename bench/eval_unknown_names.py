"""Names no passage holds as a refusal signal: answerable questions refused, off-topic answered.

    .venv/bin/python bench/eval_unknown_names.py [--work DIR]

For the seed article and TIME 1963, every question of the QA dev halves, the fresh and the
training sets (answerable) and of the off-topic sets (bench/data/qa_offtopic.jsonl, split into
tune and confirm, and qa_offtopic_fresh.jsonl, written after the margin was chosen, counted
with the fresh sets) is asked through the product
(`CoverageIndex.answer`) with query/names.UNKNOWN_NAME_MARGIN at each value: a question with a
name the coverage never mentions (names.unknown_names) must then reach the index's refusal
bar plus that margin. Margin 0 is the rule before; "refuse" refuses every such question.
Only a question with such a name can change, so the others are asked once. A margin is kept
only if it answers fewer off-topic questions on the tune halves, answers no more on the confirm
halves and refuses no answerable question of any set; of those, the product takes one with room
under the largest (query/names.py says which and why). Writes
bench/results/unknown_names.json/.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import print_machine, save, table  # noqa: E402
from qa_levers import build, corpora  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import answer  # noqa: E402
from coverage_search.query.names import unknown_names  # noqa: E402

COST: dict[str, float] = {}  # index → ms a question for unknown_names
GROUPS = ("tune", "confirm", "fresh", "train")
MARGINS: tuple[float, ...] = (0.0, 0.05, 0.08, 0.1, 0.12, 0.14, 0.2, 0.3, 10.0)
SETS = {
    "seed": ("qa_seed.jsonl", "qa_seed_fresh.jsonl", "qa_seed_train.jsonl"),
    "time": ("qa_time.jsonl", "qa_time_fresh.jsonl", "qa_time_train.jsonl"),
}


def questions(name: str) -> list[dict[str, Any]]:
    rows = []
    for file in SETS[name]:
        for line in (HERE / "data" / file).open(encoding="utf-8"):
            q = json.loads(line)
            split = q.get("split") or ("fresh" if "fresh" in file else "train")
            rows.append({"question": q["question"], "group": split, "answerable": True})
    for file in ("qa_offtopic.jsonl", "qa_offtopic_fresh.jsonl"):
        for line in (HERE / "data" / file).open(encoding="utf-8"):
            q = json.loads(line)
            rows.append({"question": q["question"], "group": q["split"], "answerable": False})
    return rows


def measure(name: str, index_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    index = CoverageIndex.open(index_dir)
    rows = questions(name)
    for row in rows:
        row["unknown"] = unknown_names(index.engine, row["question"])
    start = time.perf_counter()  # what the lookup adds to an answer, warm
    for _ in range(20):
        for row in rows:
            unknown_names(index.engine, row["question"])
    COST[name] = (time.perf_counter() - start) / (20 * len(rows)) * 1000
    found: dict[float, list[bool]] = {}
    for margin in MARGINS:
        answer.UNKNOWN_NAME_MARGIN = margin
        found[margin] = [
            index.answer(r["question"]).found if (r["unknown"] or margin == 0.0) else None
            for r in rows
        ]
        # Questions without an unknown name answer as at margin 0.
        found[margin] = [f if f is not None else found[0.0][i] for i, f in enumerate(found[margin])]
    index.close()
    out = []
    for margin in MARGINS:
        line: dict[str, Any] = {"set": name, "margin": "refuse" if margin >= 10 else margin}
        for g in GROUPS:
            ans = [f for r, f in zip(rows, found[margin], strict=True) if r["group"] == g]
            kinds = [r["answerable"] for r in rows if r["group"] == g]
            line[f"{g} refused"] = sum(1 for a, k in zip(ans, kinds, strict=True) if k and not a)
            line[f"{g} answerable"] = sum(kinds)
            line[f"{g} off-topic answered"] = sum(
                1 for a, k in zip(ans, kinds, strict=True) if not k and a
            )
            line[f"{g} off-topic"] = len(kinds) - sum(kinds)
        print(line, flush=True)
        out.append(line)
    flagged = [
        {"question": r["question"], "group": r["group"], "answerable": r["answerable"],
         "unknown": r["unknown"]}
        for r in rows if r["unknown"]
    ]  # fmt: skip
    return out, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    args = parser.parse_args()
    info = print_machine()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = corpora(args.work)
    product = answer.UNKNOWN_NAME_MARGIN
    lines, flagged = [], {}
    for name in SETS:
        index_dir = build(sources[name], args.work / f"{name}-names", ChunkSettings())
        rows, flagged[name] = measure(name, index_dir)
        lines += rows
    answer.UNKNOWN_NAME_MARGIN = product

    def cell(r: dict[str, Any], g: str) -> str:
        if not r[f"{g} off-topic"]:
            return f"{r[f'{g} refused']} of {r[f'{g} answerable']}"
        return (
            f"{r[f'{g} refused']} of {r[f'{g} answerable']} / "
            f"{r[f'{g} off-topic answered']} of {r[f'{g} off-topic']}"
        )

    md = (
        "# Unknown names: answerable refused / off-topic answered\n\n"
        f"`python bench/eval_unknown_names.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start, {info['date']}). Margin: how far the refusal "
        "bar rises for a question with a name no passage holds (0: the rule before; refuse: "
        f"every such question refused). Product: {product}.\n\n"
        + table(
            ["set", "margin", "tune", "confirm", "fresh", "train"],
            [[r["set"], r["margin"], *(cell(r, g) for g in GROUPS)] for r in lines],
        )
        + "\n\nThe lookup (names.unknown_names, warm, every question 20 times): "
        + ", ".join(f"{n} {ms:.3f} ms a question" for n, ms in COST.items())
        + ".\n\nQuestions with a name no passage holds:\n\n"
        + "\n".join(
            f"- {name} {q['group']} {'answerable' if q['answerable'] else 'off-topic'}: "
            f"{q['question']} ({', '.join(q['unknown'])})"
            for name, qs in flagged.items()
            for q in qs
        )
        + "\n"
    )
    save("unknown_names", {"machine": info, "rows": lines, "flagged": flagged, "ms": COST}, md)


if __name__ == "__main__":
    main()
