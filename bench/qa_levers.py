"""Answer levers on the QA dev sets, tune and confirm halves side by side.

Each variant opens (or builds) the seed-article and TIME 1963 indexes with one setting changed
and runs every dev question through CoverageIndex.answer, scored by coverage_search's own
`eval --qa` judge: answer passage first / in the top 3, right document first, answer quotes the
span, refusals. Usage:

    python bench/qa_levers.py [--group search|chunking|prior|confidence|inflections]
        [--work DIR]

Group "prior" gives the answer's own search the document prior (query/answer.py's
ANSWER_DOCUMENT_PRIOR, 0 in the product) at the weights search measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import SHARED_EVAL, machine  # noqa: E402

from coverage_search import CoverageIndex, SearchSettings  # noqa: E402
from coverage_search.evaluation import load_beir_folder, write_corpus  # noqa: E402
from coverage_search.evaluation.qa import QAOutcome, QAScores, ask_all, load_qa  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings  # noqa: E402
from coverage_search.query import answer  # noqa: E402

PRODUCT_PRIOR = answer.ANSWER_DOCUMENT_PRIOR

# The dev sets (tune and confirm halves) and the harder training sets (split "train").
DATA = {
    name: (HERE / "data" / f"qa_{name}.jsonl", HERE / "data" / f"qa_{name}_train.jsonl")
    for name in ("seed", "time")
}
HALVES = ("tune", "confirm", "train")


def corpora(work: Path) -> dict[str, Path]:
    time_corpus = work / "time-corpus"
    write_corpus(load_beir_folder(SHARED_EVAL / "time1963"), time_corpus)
    return {"seed": HERE.parent / "corpus", "time": time_corpus}


def build(corpus: Path, index: Path, chunking: ChunkSettings) -> Path:
    CoverageIndex.build(corpus, index, chunking=chunking, progress=False)
    return index


def run(
    name: str, index_dir: Path, settings: SearchSettings, options: dict[str, Any]
) -> dict[str, dict[str, float]]:
    index = CoverageIndex.open(index_dir, settings=settings)
    options = dict(options)
    answer.ANSWER_DOCUMENT_PRIOR = float(options.pop("answer_prior", PRODUCT_PRIOR))
    questions = [q for path in DATA[name] for q in load_qa(path)]
    outcomes, _, _ = ask_all(
        index,
        questions,
        [],
        doc_of=lambda h: h.doc_id.removesuffix(".md") if name == "time" else h.doc_id,
        progress=False,
        **options,
    )
    index.close()
    answer.ANSWER_DOCUMENT_PRIOR = PRODUCT_PRIOR
    return {half: half_counts(outcomes, half) for half in HALVES}


def half_counts(outcomes: list[QAOutcome], half: str) -> dict[str, int]:
    """The QA counts of the questions of one split."""
    s = QAScores.of([o for o in outcomes if o.split == half])
    return {
        "n": s.questions,
        "first": s.passage_first,
        "top3": s.passage_top3,
        "doc_first": s.document_first,
        "quoted": s.quoted,
        "refused": s.refused,
    }


Variant = tuple[str, ChunkSettings, SearchSettings, dict[str, Any]]


def replace_kc(settings: SearchSettings, value: float) -> SearchSettings:
    return dataclasses.replace(settings, keyword_confidence=value)


def variants(group: str) -> list[Variant]:
    base_chunks, base = ChunkSettings(), SearchSettings()
    if group == "search":
        out: list[Variant] = [("default", base_chunks, base, {})]
        for alpha in (0.6, 0.7, 0.8):
            out.append((f"alpha {alpha}", base_chunks, dataclasses.replace(base, alpha=alpha), {}))
        out.append(("semantic only", base_chunks, base, {"mode": "semantic"}))
        out.append(("rrf", base_chunks, dataclasses.replace(base, fusion="rrf"), {}))
        return out
    if group == "confidence":  # fusion.fuse's keyword weight (bench/eval_keyword_confidence.py)
        return [("keyword confidence 0", base_chunks, replace_kc(base, 0.0), {})] + [
            (f"keyword confidence {c:g}", base_chunks, replace_kc(base, c), {})
            for c in (0.5, 0.75, 1.0, 1.5)
        ]
    if group == "inflections":  # query/inflections.py, bench/eval_inflections.py
        return [
            ("inflections off (the product)", base_chunks, base, {}),
            ("inflections on", base_chunks, dataclasses.replace(base, inflections=True), {}),
        ]
    if group == "prior":
        return [("answer prior 0 (the product)", base_chunks, base, {})] + [
            (f"answer prior {w}", base_chunks, base, {"answer_prior": w}) for w in (0.25, 0.35)
        ]
    if group == "chunking":
        return [
            ("paragraphs, 160", base_chunks, base, {}),
            (
                "paragraphs whole up to the window",
                ChunkSettings(paragraph_whole="window"),
                base,
                {},
            ),
            ("sentences, 160 (before)", ChunkSettings(paragraphs=False), base, {}),
            ("paragraphs, 120", ChunkSettings(target_tokens=120), base, {}),
            ("paragraphs, 220", ChunkSettings(target_tokens=220), base, {}),
            ("paragraphs, heading context", ChunkSettings(context="heading"), base, {}),
        ]
    raise SystemExit(f"unknown group {group}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--group",
        default="search",
        choices=("search", "chunking", "prior", "confidence", "inflections"),
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-qa-levers"))
    parser.add_argument("--sets", nargs="+", default=["seed", "time"])
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = corpora(args.work)
    facts = machine()
    lines = [f"# QA levers: {args.group}", "", f"machine: {json.dumps(facts)}", ""]
    lines += [
        "| variant | set | half | n | passage first | top 3 | doc first | quoted | refused |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    results: dict[str, Any] = {}
    key: Callable[[ChunkSettings], str] = lambda c: json.dumps(c.to_dict(), sort_keys=True)  # noqa: E731
    folders: dict[tuple[str, str], Path] = {}
    for label, chunks, settings, options in variants(args.group):
        for name in args.sets:
            where = folders.setdefault(
                (name, key(chunks)), args.work / f"{name}-index-{len(folders)}"
            )
            index = build(sources[name], where, chunks)
            got = run(name, index, settings, options)
            results[f"{label}/{name}"] = got
            for half, m in got.items():
                lines.append(
                    f"| {label} | {name} | {half} | {m['n']} | {m['first']} | {m['top3']} | "
                    f"{m['doc_first']} | {m['quoted']} | {m['refused']} |"
                )
            print(*lines[-len(got) :], sep="\n", flush=True)
    out = HERE / "results" / f"qa_levers_{args.group}"
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
