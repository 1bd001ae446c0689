"""A question's dense vector with a rewritten form averaged in: QA dev sets and BEIR nDCG@10.

    PYTHONPATH=src .venv/bin/python bench/eval_question_variants.py [--work /tmp/qvariants-work]
        [--variants off strip template strip-alone template-alone] [--skip-beir] [--skip-qa]

SearchSettings.question_rewrite (query/questions.py) rewrites a query that opens on a wh-word
toward the sentence that answers it and makes the dense query vector the normalised mean of the
query's own MiniLM vector and the rewrite's ("strip": wh-word and auxiliary dropped, "Why did
Dario Amodei leave OpenAI?" → "Dario Amodei leave OpenAI"; "template": the same plus a cue by
question kind, why → "… because", number → "… number", when/where → "… in", how → "… by"), or
the rewrite's vector alone ("strip-alone", "template-alone"); only a question (text ending in
"?") is rewritten. Only retrieval changes (the answer's own search, plain search, the document
prior's cosine and the refusal bar's probe searches): the answer still scores sentences against
the question as typed. "off" is the baseline; the product's default is "template", the one
variant that met the rule. One run measures every variant: the QA dev sets
(bench/data/qa_seed.jsonl and qa_time.jsonl, tune and confirm halves) and the harder training
sets (qa_*_train.jsonl) through CoverageIndex.answer, scored by `eval --qa`'s judge, and BEIR
nDCG@10 (semantic and hybrid, judged queries at even positions = tune, odd = confirm) on
../shared/eval/scifact and time1963. The TIME QA questions run on the TIME BEIR index (the same
corpus as bench/qa_levers.py's). Writes bench/results/question_variants.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("COVERAGE_BENCH_WORK", "/tmp/qvariants-work")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from evalkit import Prepared, prepare, rankings, scores  # noqa: E402
from machine import REPO, load1, machine, save, table  # noqa: E402
from qa_levers import half_counts  # noqa: E402

from coverage_search import CoverageIndex, SearchSettings  # noqa: E402
from coverage_search.evaluation.metrics import ndcg_at  # noqa: E402
from coverage_search.evaluation.qa import ask_all, load_qa  # noqa: E402
from coverage_search.query.questions import rewritten  # noqa: E402
from coverage_search.query.settings import REWRITES  # noqa: E402

QA_HALVES = ("tune", "confirm", "train")
QA_FILES = {name: (f"qa_{name}.jsonl", f"qa_{name}_train.jsonl") for name in ("seed", "time")}
METRICS = ("first", "top3", "doc_first", "quoted", "refused")


def changed(texts: list[str], variant: str) -> int:
    return sum(rewritten(t, variant) != t for t in texts)


def beir(prep: Prepared, variants: list[str]) -> dict[str, Any]:
    queries = prep.tune + prep.confirm
    texts = [prep.data.queries[q] for q in queries]
    out: dict[str, Any] = {
        "queries": len(queries),
        "changed": {v: changed(texts, v) for v in variants},
        "examples": [(t, rewritten(t, "template")) for t in texts if rewritten(t, "strip") != t][
            :3
        ],
    }
    folder = prep.index.index_dir
    for variant in variants:
        prep.index.close()
        prep.index = CoverageIndex.open(folder, settings=SearchSettings(question_rewrite=variant))
        start, row = time.perf_counter(), {}
        moved = [
            q for q in queries if rewritten(prep.data.queries[q], variant) != prep.data.queries[q]
        ]
        for mode in ("semantic", "hybrid"):
            ranked = rankings(prep, queries, mode=mode)
            row[mode] = {
                half: scores(prep, {q: ranked[q] for q in ids})["ndcg_at_10"]
                for half, ids in (("tune", prep.tune), ("confirm", prep.confirm))
            }
            # The rewritten queries one by one (the rest rank as "off" does by construction).
            row[f"{mode} per rewritten query"] = {
                f"{q} ({'tune' if q in prep.tune else 'confirm'})": round(
                    ndcg_at(ranked[q], prep.data.qrels[q], 10), 4
                )
                for q in moved or [q for q in queries if rewritten(prep.data.queries[q], "strip")
                                   != prep.data.queries[q]]
            }  # fmt: skip
        row["seconds"] = round(time.perf_counter() - start, 1)
        row["load"] = load1()
        out[variant] = row
        print(folder.parent.name, variant, row, flush=True)
    return out


def _off_topic() -> dict[str, list[str]]:
    """The off-topic questions (bench/data/qa_offtopic.jsonl) of each half."""
    rows = [json.loads(line) for line in (HERE / "data" / "qa_offtopic.jsonl").open()]
    return {h: [r["question"] for r in rows if r.get("split") == h] for h in ("tune", "confirm")}


OFF_TOPIC = _off_topic()


def qa(name: str, folder: Path, variants: list[str]) -> dict[str, Any]:
    questions = [q for f in QA_FILES[name] for q in load_qa(HERE / "data" / f)]
    out: dict[str, Any] = {
        "changed": {
            half: {
                v: changed([q.question for q in questions if q.split == half], v) for v in variants
            }
            for half in QA_HALVES
        }
    }
    doc_of = (lambda h: h.doc_id.removesuffix(".md")) if name == "time" else (lambda h: h.doc_id)
    base: dict[str, tuple[bool, bool]] = {}  # "off"'s passage first and quoted, per question
    for variant in variants:
        index = CoverageIndex.open(folder, settings=SearchSettings(question_rewrite=variant))
        start = time.perf_counter()
        outcomes, answered, _ = ask_all(
            index, questions, [t for ts in OFF_TOPIC.values() for t in ts], doc_of=doc_of,
            progress=False,
        )  # fmt: skip
        index.close()
        row: dict[str, Any] = {
            "off_topic_answered": {
                half: sum(t in answered for t in texts) for half, texts in OFF_TOPIC.items()
            }
        }
        for half in QA_HALVES:
            row[half] = half_counts(outcomes, half)
        marks = {o.question: (o.passage_rank == 1, o.quoted) for o in outcomes}
        base = base or marks
        row["flips"] = {
            half: {
                m: [
                    sum(marks[q][i] and not base[q][i] for q in asked),
                    sum(base[q][i] and not marks[q][i] for q in asked),
                ]
                for i, m in enumerate(("first", "quoted"))
            }
            for half in QA_HALVES
            for asked in [[q.question for q in questions if q.split == half]]
        }
        row["seconds"] = round(time.perf_counter() - start, 1)
        row["load"] = load1()
        out[variant] = row
        print(name, variant, row, flush=True)
    return out


def verdict(results: dict[str, Any], variant: str) -> str:
    """The rule: wins on the tune halves, loses on no confirm half (QA quoted and passage first,
    nDCG@10 semantic and hybrid)."""
    tune_gain, tune_loss, confirm_loss, tune_lost = 0.0, False, [], []
    for name in ("seed", "time"):
        got = results.get(f"qa_{name}")
        if not got:
            continue
        for m in ("first", "quoted"):
            d = got[variant]["tune"][m] - got["off"]["tune"][m]
            tune_gain, tune_loss = tune_gain + d, tune_loss or d < 0
            tune_lost += [f"{name} QA tune {m}"] if d < 0 else []
            if got[variant]["confirm"][m] < got["off"]["confirm"][m]:
                confirm_loss.append(f"{name} QA confirm {m}")
    for name in ("scifact", "time1963"):
        got = results.get(f"beir_{name}")
        if not got:
            continue
        for mode in ("semantic", "hybrid"):
            d = got[variant][mode]["tune"] - got["off"][mode]["tune"]
            tune_gain, tune_loss = tune_gain + 100 * d, tune_loss or d < -1e-9
            tune_lost += [f"{name} {mode} tune"] if d < -1e-9 else []
            if got[variant][mode]["confirm"] < got["off"][mode]["confirm"] - 1e-9:
                confirm_loss.append(f"{name} {mode} confirm")
    wins = tune_gain > 0 and not tune_loss
    if wins and not confirm_loss:
        return "meets the rule"
    why = "wins tune" if wins else "does not win the tune halves"
    why += f" (tune figures lost: {', '.join(tune_lost) or 'none'})"
    return why + (f"; loses {', '.join(confirm_loss)}" if confirm_loss else "; loses no confirm")


def report(results: dict[str, Any], variants: list[str], facts: dict[str, Any]) -> str:
    md = [
        "# A question's vector with a rewritten form averaged in",
        "",
        f"`{' '.join(sys.argv)}`. Machine: {facts['nproc']} cores, {facts['cpu']}, "
        f"{facts['ram_gib']} GiB RAM, Python {facts['python']}, 1-minute load "
        f"{facts['load_1min_at_start']} at start, {load1()} at the end ({facts['date']}). "
        'bench/eval_question_variants.py; "off" is the baseline. Only retrieval sees the '
        "rewrite. Rule: kept only if it wins on the tune halves and loses no confirm half (QA "
        "quoted and passage first, nDCG@10).",
        "",
    ]
    rows = []
    for name in ("seed", "time"):
        got = results.get(f"qa_{name}")
        if not got:
            continue
        for variant in variants:
            for half in QA_HALVES:
                m = got[variant][half]
                f = got[variant]["flips"][half]
                rows.append(
                    [name, half, variant, got["changed"][half][variant], m["n"]]
                    + [m[k] for k in METRICS]
                    + [" / ".join(f"+{f[k][0]} −{f[k][1]}" for k in ("first", "quoted"))]
                    + [got[variant].get("off_topic_answered", {}).get(half, "")]
                )
    if rows:
        md += [
            "## QA: answer passage first, in top 3, right article first, quoted, refused",
            "",
            table(
                ["set", "half", "variant", "questions rewritten", "n", "passage first", "top 3",
                 "article first", "quoted", "refused",
                 "questions gained / lost against off: first / quoted",
                 "off-topic answered (of 18 a half)"],
                rows,
            ),
            "",
        ]  # fmt: skip
    rows = []
    for name in ("scifact", "time1963"):
        got = results.get(f"beir_{name}")
        if not got:
            continue
        for variant in variants:
            r = got[variant]
            rows.append(
                [name, variant, f"{got['changed'][variant]} of {got['queries']}"]
                + [f"{r[m]['tune']:.4f} / {r[m]['confirm']:.4f}" for m in ("semantic", "hybrid")]
            )
    if rows:
        md += [
            "## BEIR nDCG@10 (tune / confirm)",
            "",
            table(["collection", "variant", "queries rewritten", "semantic", "hybrid"], rows),
            "",
        ]
        for name in ("scifact", "time1963"):
            got = results.get(f"beir_{name}")
            if got and got["examples"]:
                md.append(
                    f"{name} rewritten, e.g.: "
                    + "; ".join(f"{a!r} → {b!r}" for a, b in got["examples"])
                    + ". nDCG@10 of the rewritten queries, semantic / hybrid: "
                    + "; ".join(
                        f"{v} "
                        + ", ".join(
                            f"{q} {got[v]['semantic per rewritten query'][q]:.4f} / "
                            f"{got[v]['hybrid per rewritten query'][q]:.4f}"
                            for q in got[v]["semantic per rewritten query"]
                        )
                        for v in variants
                    )
                    + "."
                )
                md.append("")
        md.append("")
    md += ["## Verdict", ""]
    md += [f"- {v}: {verdict(results, v)}" for v in variants if v != "off"]
    return "\n".join(md) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path(os.environ["COVERAGE_BENCH_WORK"]))
    parser.add_argument("--variants", nargs="+", choices=REWRITES, default=list(REWRITES))
    parser.add_argument("--skip-beir", action="store_true")
    parser.add_argument("--skip-qa", action="store_true")
    parser.add_argument("--name", default="question_variants", help="results file name")
    args = parser.parse_args()
    variants = ["off", *[v for v in args.variants if v != "off"]]
    facts = machine()
    print(facts, flush=True)
    results: dict[str, Any] = {}
    time_index = None
    for name in ("time1963", "scifact"):
        if args.skip_beir and name == "scifact":
            continue
        prep = prepare(name, progress=False)
        time_index = prep.index.index_dir if name == "time1963" else time_index
        if not args.skip_beir:
            results[f"beir_{name}"] = beir(prep, variants)
        prep.index.close()
    if not args.skip_qa:
        seed_index = args.work / "seed-index"
        CoverageIndex.build(REPO / "corpus", seed_index, progress=False)
        results["qa_seed"] = qa("seed", seed_index, variants)
        assert time_index is not None
        results["qa_time"] = qa("time", time_index, variants)
    md = report(results, variants, facts)
    print(md)
    save(args.name, {"results": results}, md)


if __name__ == "__main__":
    main()
