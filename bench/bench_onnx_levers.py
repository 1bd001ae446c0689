"""ONNX Runtime levers for the int8 encoder, one text per run as the build embeds them.

    .venv/bin/python bench/bench_onnx_levers.py [--dataset time1963] [--passages 300] [--rounds 3]

Each variant is a model file made from the same fp32 export (the one the backend caches) and a
session setting: plain dynamic int8 (the previous default: MatMul weights only, ONNX Runtime's
own session fusions), the same with its Skip-LayerNorm fusion turned off, each attention fused
first (`embed/fusion.py`) with or without the Skip-LayerNorm fusion, attention fused but left in
float, and the chosen file on one thread, on two, and on two one-thread sessions side by side.
Variants take turns in every round (the machine is shared); each row gives the median and best
wall passages/s, the CPU milliseconds per passage (all threads; steadier than wall time when
other work holds a core), and the cosine to the fp32 export (equal to torch's within 1e-5,
bench/results/onnx.md). Writes bench/results/onnx_levers.json and .md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import REPO, SHARED_EVAL, print_machine, save, table

sys.path.insert(0, str(REPO / "src"))


def command(script: str, args: argparse.Namespace) -> str:
    """The command line that made a results file, for its header."""
    only = f" --only '{args.only}'" if args.only else ""
    return (
        f"`bench/{script} --dataset {args.dataset} --passages {args.passages} "
        f"--rounds {args.rounds}{only}`.\n\n"
    )


def sample_texts(dataset: str, count: int) -> list[str]:
    """Embedded texts of `count` random passages of the dataset, cut by the real chunker."""
    from coverage_search.embed.embedder import get_embedder
    from coverage_search.evaluation import load_beir_folder
    from coverage_search.passages.chunking import ChunkSettings, chunk_documents
    from coverage_search.records import Document

    data = load_beir_folder(SHARED_EVAL / dataset)
    docs = [
        Document(doc_id=i, path="x", title=t, text=x, format="text", content_hash="x")
        for i, (t, x) in list(data.corpus.items())[: 4 * count]
    ]
    texts = [p.embed_text or p.text for p in chunk_documents(docs, get_embedder(), ChunkSettings())]
    return random.Random(0).sample(texts, min(count, len(texts)))


def make_files(work: Path) -> dict[str, Path]:
    """fp32 (the cached export), plain int8, attention-fused int8, attention fused but float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from coverage_search.embed.embedder import bundled_model_path
    from coverage_search.embed.fusion import attention_shape, fuse_attention
    from coverage_search.embed.onnx import _quiet, onnx_file

    location = bundled_model_path()
    fp32 = onnx_file(location, "onnx")
    chosen = onnx_file(location, "onnx-int8")
    heads, hidden = attention_shape(location)
    files = {"fp32": fp32, "fused int8": chosen}
    with _quiet():
        files["plain int8"] = work / "plain-int8.onnx"
        quantize_dynamic(
            str(fp32),
            str(files["plain int8"]),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm"],
        )
        fused = work / "fused.onnx"
        fuse_attention(fp32, fused, heads=heads, hidden=hidden)
        files["fused, float attention"] = work / "fused-float-attention.onnx"
        quantize_dynamic(
            str(fused),
            str(files["fused, float attention"]),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    return files


def session(path: Path, *, threads: int, skip_layer_norm: bool) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    disabled = [] if skip_layer_norm else ["SkipLayerNormFusion"]
    return ort.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled
    )


def vector(s: Any, ids: list[int]) -> np.ndarray:
    batch = np.asarray([ids], dtype=np.int64)
    feeds = {
        "input_ids": batch,
        "attention_mask": np.ones_like(batch),
        "token_type_ids": np.zeros_like(batch),
    }
    pooled = s.run(None, feeds)[0][0].mean(axis=0)
    return np.asarray(pooled / np.linalg.norm(pooled), dtype=np.float32)


def embed(sessions: list[Any], encoded: list[list[int]]) -> np.ndarray:
    """One text per run; with several sessions, each thread takes every n-th text."""
    out: list[np.ndarray | None] = [None] * len(encoded)

    def work(k: int) -> None:
        for i in range(k, len(encoded), len(sessions)):
            out[i] = vector(sessions[k], encoded[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return np.stack([v for v in out if v is not None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="time1963")
    parser.add_argument("--passages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="run only the variants whose name has this")
    parser.add_argument("--name", default="onnx_levers", help="results file name")
    args = parser.parse_args()
    info = print_machine()
    from tokenizers import Tokenizer

    from coverage_search.embed.embedder import bundled_model_path

    texts = sample_texts(args.dataset, args.passages)
    tokenizer = Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    encoded = [e.ids for e in tokenizer.encode_batch(texts)]
    pieces = float(np.mean([len(e) for e in encoded]))
    print(f"{len(encoded)} {args.dataset} passages, mean {pieces:.0f} word pieces", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp))
        chosen = files["fused int8"]
        variants: dict[str, list[Any]] = {
            "plain int8, session fusions (before), 2 threads": [
                session(files["plain int8"], threads=2, skip_layer_norm=True)
            ],
            "plain int8, no Skip-LayerNorm fusion, 2 threads": [
                session(files["plain int8"], threads=2, skip_layer_norm=False)
            ],
            "attention fused, Skip-LayerNorm fused, 2 threads": [
                session(chosen, threads=2, skip_layer_norm=True)
            ],
            "attention fused, float attention, 2 threads": [
                session(files["fused, float attention"], threads=2, skip_layer_norm=False)
            ],
            "attention fused (chosen), 2 threads": [
                session(chosen, threads=2, skip_layer_norm=False)
            ],
            "plain int8, session fusions (before), 1 thread": [
                session(files["plain int8"], threads=1, skip_layer_norm=True)
            ],
            "plain int8, no Skip-LayerNorm fusion, 1 thread": [
                session(files["plain int8"], threads=1, skip_layer_norm=False)
            ],
            "attention fused (chosen), 1 thread": [
                session(chosen, threads=1, skip_layer_norm=False)
            ],
            "attention fused (chosen), 2 sessions x 1 thread": [
                session(chosen, threads=1, skip_layer_norm=False) for _ in range(2)
            ],
            "plain int8, no Skip-LayerNorm fusion, 2 sessions x 1 thread": [
                session(files["plain int8"], threads=1, skip_layer_norm=False) for _ in range(2)
            ],
        }
        variants = {k: v for k, v in variants.items() if args.only in k}
        reference = embed([session(files["fp32"], threads=2, skip_layer_norm=False)], encoded)
        for sessions in variants.values():
            embed(sessions, encoded[:4])  # first-run costs
        walls: dict[str, list[float]] = {name: [] for name in variants}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        loads: dict[str, list[float]] = {name: [] for name in variants}
        cosines: dict[str, np.ndarray] = {}
        for n in range(args.rounds):
            for name, sessions in variants.items():
                loads[name].append(os.getloadavg()[0])
                wall, cpu = time.perf_counter(), time.process_time()
                vectors = embed(sessions, encoded)
                walls[name].append(len(encoded) / (time.perf_counter() - wall))
                cpus[name].append(1000 * (time.process_time() - cpu) / len(encoded))
                cosines[name] = (vectors * reference).sum(axis=1)
                print(
                    f"round {n + 1} {name:<50} {walls[name][-1]:6.1f} passages/s, "
                    f"{cpus[name][-1]:5.1f} CPU ms each, load {loads[name][-1]:.2f}",
                    flush=True,
                )
    rows = [
        {
            "variant": name,
            "passages_per_s_median": float(np.median(walls[name])),
            "passages_per_s_best": float(np.max(walls[name])),
            "cpu_ms_per_passage_median": float(np.median(cpus[name])),
            "cosine_min": float(cosines[name].min()),
            "cosine_p01": float(np.percentile(cosines[name], 1)),
            "cosine_mean": float(cosines[name].mean()),
            "load_min": round(min(loads[name]), 2),
            "load_max": round(max(loads[name]), 2),
        }
        for name in variants
    ]
    md = (
        f"# ONNX Runtime levers, int8 encoder, one text per run\n\nMachine: {info['nproc']} "
        f"cores, {info['cpu']}, {info['ram_gib']} GiB RAM, shared. {len(encoded)} "
        f"{args.dataset} passages (real chunker, title context), mean {pieces:.0f} word pieces; "
        f"{args.rounds} interleaved rounds. Cosine is to the fp32 export. Command: "
        + command("bench_onnx_levers.py", args)
        + table(
            [
                "variant",
                "passages/s median",
                "best",
                "CPU ms/passage",
                "cosine min / 1st pct / mean",
                "1-min load",
            ],
            [
                [
                    r["variant"],
                    round(r["passages_per_s_median"], 1),
                    round(r["passages_per_s_best"], 1),
                    round(r["cpu_ms_per_passage_median"], 1),
                    f"{r['cosine_min']:.4f} / {r['cosine_p01']:.4f} / {r['cosine_mean']:.4f}",
                    f"{r['load_min']}-{r['load_max']}",
                ]
                for r in rows
            ],
        )
    )
    save(args.name, {"dataset": args.dataset, "passages": len(encoded), "rows": rows}, md)


if __name__ == "__main__":
    main()
