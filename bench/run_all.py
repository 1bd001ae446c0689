"""Run every benchmark in order (what `make bench` does); each writes bench/results/<name>.json/.md.

    .venv/bin/python bench/run_all.py [--skip txtai onnx ...] [--only fusion ...]

Takes about two hours on 2 cores (most of it embedding SciFact once, the 1M-passage build and
txtai's build); reruns are faster because embeddings are cached in $COVERAGE_BENCH_WORK.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

STEPS: list[tuple[str, list[str]]] = [
    ("fusion", ["eval_fusion.py"]),
    ("levers", ["eval_levers.py", "--group", "search"]),
    ("stemming", ["eval_levers.py", "--group", "stemming"]),
    ("chunking", ["eval_levers.py", "--group", "chunking"]),
    ("answer-fit", ["fit_answer.py", "--hits", "5", "8"]),
    ("answer-refusal", ["refusal.py"]),
    ("qa-search", ["qa_levers.py", "--group", "search"]),
    ("qa-chunking", ["qa_levers.py", "--group", "chunking"]),
    ("dedup", ["dedup_eval.py"]),
    ("faiss", ["bench_faiss.py", "--sizes", "100000", "1000000"]),
    ("throughput", ["bench_speed.py", "throughput"]),
    ("incremental", ["bench_speed.py", "incremental"]),
    ("latency", ["bench_speed.py", "latency"]),
    ("milvus", ["bench_milvus.py"]),
    ("timeline", ["bench_timeline.py"]),
    ("recency", ["eval_recency.py"]),
    ("app", ["bench_app.py"]),
    ("onnx", ["bench_onnx.py", "--ndcg", "scifact"]),
    ("txtai", ["bench_txtai.py", "--datasets", "time1963"]),
    ("txtai-1thread", ["bench_txtai.py", "--datasets", "time1963", "--txtai-query-threads", "1"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    names = [name for name, _ in STEPS]
    parser.add_argument("--skip", nargs="*", default=[], choices=names)
    parser.add_argument("--only", nargs="*", default=[], choices=names)
    args = parser.parse_args()
    failed = []
    for name, argv in STEPS:
        if name in args.skip or (args.only and name not in args.only):
            continue
        print(f"== {name}: {' '.join(argv)}", flush=True)
        start = time.perf_counter()
        # src/ on the path: the scripts run from a checkout even before `pip install -e .`.
        env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
        code = subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], env=env).returncode
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
