"""Batched encoders for the build against the int8 lanes (one text per run, 2 one-thread sessions).

    PYTHONPATH=src .venv/bin/python bench/bench_encoder_batching.py [--passages 300] [--rounds 3]

The CPU has AVX-512 VNNI and AMX (bf16 and int8). Variants, all on the same real passages
(time1963, real chunker, as bench_onnx_levers.py samples them), taking turns in every round:

- the current int8 lanes (dynamic int8, fused attention, one text per run, 2 sessions x 1 thread);
- the same dynamic int8 file batched by word pieces (1 session x 2 threads): does MLAS go faster
  on big matrices? (Its U8S8 GEMM reaches VNNI speed, not AMX: see the notes in the .md);
- static int8 (quantize_static, QDQ, per-channel weights, activations calibrated once on the
  chunked seed article in corpus/, nothing from the eval sets), so texts could be batched;
- SmoothQuant static int8 (smoothquant.py: per-channel activation ranges moved into the
  weights, alpha 0.8, calibrated on bench/data/calibration.txt), on ONNX Runtime (u8
  activations, its fast path) and on OpenVINO (s8 activations, its fast path);
- torch bf16 (oneDNN runs its matmuls on AMX), batched, 2 threads;
- OpenVINO (if importable; not a project dependency) reading the fp32 export with bf16
  inference precision (AMX), batched, on 2 one-thread streams or 1 two-thread stream, and the
  static QDQ file (symmetric int8 activations, which OpenVINO runs as int8).

Cosine is to the fp32 export run one text per call. "batch drift" is how far a text's vector
moves between its batched run and a run of its own (same variant): the smallest cosine and the
largest absolute difference of a coordinate. Writes bench/results/encoder_batching.json and .md.
"""

from __future__ import annotations

import argparse
import importlib
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch's idle threads must not spin on
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_onnx_levers import command, embed, sample_texts, session
from machine import REPO, print_machine, save, table
from smoothquant import calibration_ids, quantize, smooth

# Cosine to fp32 (min / 1st pct / mean), 120 time1963 passages, s8 activations on OpenVINO:
# alpha 0.6 0.959 / 0.964 / 0.977, 0.7 0.989 / 0.990 / 0.994, 0.8 0.990 / 0.992 / 0.996,
# 0.9 0.986 / 0.992 / 0.996 (the int8 lanes: 0.984 / 0.987 / 0.993).
SMOOTH_ALPHA = 0.8

Batch = tuple[np.ndarray, np.ndarray]  # padded ids, mask


def groups(encoded: list[list[int]], budget: int) -> list[list[int]]:
    """Longest first, as many texts per group as fit `budget` word pieces (padding included)."""
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    out, lo = [], 0
    while lo < len(order):
        size = max(1, budget // len(encoded[order[lo]]))
        out.append(order[lo : lo + size])
        lo += size
    return out


def pack(encoded: list[list[int]], group: list[int]) -> Batch:
    width = max(len(encoded[i]) for i in group)
    ids = np.zeros((len(group), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, i in enumerate(group):
        ids[row, : len(encoded[i])] = encoded[i]
        mask[row, : len(encoded[i])] = 1
    return ids, mask


def pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden.astype(np.float32) * weights).sum(axis=1) / weights.sum(axis=1)
    return np.asarray(pooled / np.linalg.norm(pooled, axis=1, keepdims=True), dtype=np.float32)


def feeds(batch: Batch) -> dict[str, np.ndarray]:
    ids, mask = batch
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def on_lanes(run: Callable[[Any, Batch], np.ndarray], workers: list[Any], budget: int) -> Any:
    """An embed function: groups of `budget` pieces, each worker taking the next one when free."""

    def go(encoded: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(encoded), 384), dtype=np.float32)
        queue = iter(groups(encoded, budget))
        lock = threading.Lock()

        def lane(worker: Any) -> None:
            while True:
                with lock:
                    group = next(queue, None)
                if group is None:
                    return
                batch = pack(encoded, group)
                out[group] = pool(run(worker, batch), batch[1])

        threads = [threading.Thread(target=lane, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    return go


def ort_run(s: Any, batch: Batch) -> np.ndarray:
    return np.asarray(s.run(None, feeds(batch))[0])


def static_file(fp32: Path, target: Path, *, symmetric: bool) -> Path:
    """QDQ static int8 of the weight MatMuls (smoothquant.quantize, without the smoothing),
    activations calibrated on the seed article."""
    from coverage_search.embed.embedder import get_embedder
    from coverage_search.embed.onnx import _quiet
    from coverage_search.passages.chunking import ChunkSettings, chunk_documents
    from coverage_search.records import Document

    seed = sorted((REPO / "corpus").glob("*.md"))[0]
    doc = Document(
        doc_id="seed",
        path=str(seed),
        title=seed.stem,
        text=seed.read_text(),
        format="text",
        content_hash="x",
    )
    texts = [
        p.embed_text or p.text for p in chunk_documents([doc], get_embedder(), ChunkSettings())
    ]
    encoded = [e.ids for e in get_embedder().tokenizer.encode_batch(texts)]
    with _quiet():
        return quantize(fp32, target, encoded, symmetric=symmetric)


def torch_variant(location: Path, budget: int) -> Any:
    import torch
    from transformers import AutoModel

    torch.set_num_threads(2)
    model = AutoModel.from_pretrained(str(location), dtype=torch.bfloat16).eval()

    def run(_: Any, batch: Batch) -> np.ndarray:
        ids, mask = (torch.from_numpy(a) for a in batch)
        with torch.inference_mode():
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state
        return np.asarray(out.float().numpy())

    return on_lanes(run, [None], budget)


def openvino_variants(fp32: Path, static: Path, smoothed: Path) -> dict[str, Any]:
    try:
        ov = importlib.import_module("openvino")
    except ImportError:
        print("openvino not importable: its variants are left out", flush=True)
        return {}
    core = ov.Core()

    def streams(path: Path, budget: int) -> Any:
        """2 streams of 1 thread (THROUGHPUT hint), bf16 where not int8, async queue of 2."""
        model = core.compile_model(
            core.read_model(str(path)),
            "CPU",
            {
                "PERFORMANCE_HINT": "THROUGHPUT",
                "NUM_STREAMS": 2,
                "INFERENCE_NUM_THREADS": 2,
                "INFERENCE_PRECISION_HINT": "bf16",
            },
        )
        queue = ov.AsyncInferQueue(model, 2)

        def go(encoded: list[list[int]]) -> np.ndarray:
            out = np.zeros((len(encoded), 384), dtype=np.float32)

            def done(request: Any, data: tuple[list[int], np.ndarray]) -> None:
                out[data[0]] = pool(request.get_output_tensor(0).data, data[1])

            queue.set_callback(done)
            for group in groups(encoded, budget):
                batch = pack(encoded, group)
                queue.start_async(feeds(batch), (group, batch[1]))
            queue.wait_all()
            return out

        return go

    return {
        "openvino bf16, 2 streams, 1024 pieces": streams(fp32, 1024),
        "openvino bf16, 2 streams, 2048 pieces": streams(fp32, 2048),
        "openvino static int8 unsmoothed (s8 act.), 2 streams, 1024 pieces": streams(static, 1024),
        "openvino SmoothQuant int8 (s8 act.), 2 streams, 1024 pieces": streams(smoothed, 1024),
    }


def drift(
    fn: Any, encoded: list[list[int]], batched: np.ndarray, count: int
) -> tuple[float, float]:
    """Smallest cosine and largest coordinate difference, batched against one text per run."""
    solo = np.stack([fn([encoded[i]])[0] for i in range(count)])
    return float((solo * batched[:count]).sum(axis=1).min()), float(
        np.abs(solo - batched[:count]).max()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="time1963")
    parser.add_argument("--passages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", default="", help="run only the variants whose name has one of these (a,b)"
    )
    args = parser.parse_args()
    info = print_machine()
    from coverage_search.embed.embedder import bundled_model_path, get_embedder
    from coverage_search.embed.onnx import onnx_file

    location = bundled_model_path()
    texts = sample_texts(args.dataset, args.passages)
    tokenizer = get_embedder().tokenizer
    encoded = [e.ids for e in tokenizer.encode_batch(texts)]
    pieces = float(np.mean([len(e) for e in encoded]))
    print(f"{len(encoded)} {args.dataset} passages, mean {pieces:.0f} word pieces", flush=True)
    fp32, int8 = onnx_file(location, "onnx"), onnx_file(location, "onnx-int8")
    with tempfile.TemporaryDirectory() as tmp:
        static_u8 = static_file(fp32, Path(tmp) / "static-u8.onnx", symmetric=False)
        static_s8 = static_file(fp32, Path(tmp) / "static-s8.onnx", symmetric=True)
        samples = calibration_ids(location)
        smooth(fp32, Path(tmp) / "smoothed.onnx", samples, alpha=SMOOTH_ALPHA)
        smoothed_u8 = quantize(
            Path(tmp) / "smoothed.onnx", Path(tmp) / "sq-u8.onnx", samples, symmetric=False
        )
        smoothed_s8 = quantize(
            Path(tmp) / "smoothed.onnx", Path(tmp) / "sq-s8.onnx", samples, symmetric=True
        )
        lanes = [session(int8, threads=1, skip_layer_norm=False) for _ in range(2)]
        variants: dict[str, Any] = {
            "int8 lanes (current), 2 x 1 thread, 1 text": lambda enc: embed(lanes, enc),
            "int8 dynamic, 1 x 2 threads, 2048 pieces": on_lanes(
                ort_run, [session(int8, threads=2, skip_layer_norm=False)], 2048
            ),
            "int8 dynamic, 2 x 1 thread, 1024 pieces": on_lanes(ort_run, lanes, 1024),
            "static int8 QDQ (u8 act.), 2 x 1 thread, 1 text": on_lanes(
                ort_run, [session(static_u8, threads=1, skip_layer_norm=False) for _ in "ab"], 1
            ),
            "static int8 QDQ (u8 act.), 1 x 2 threads, 2048 pieces": on_lanes(
                ort_run, [session(static_u8, threads=2, skip_layer_norm=False)], 2048
            ),
            "torch bf16 (AMX), 2 threads, 2048 pieces": torch_variant(location, 2048),
            "static int8 SmoothQuant (u8 act.) on ONNX Runtime, 2 x 1 thread, 512 pieces": (
                on_lanes(
                    ort_run,
                    [session(smoothed_u8, threads=1, skip_layer_norm=False) for _ in "ab"],
                    512,
                )
            ),
            **openvino_variants(fp32, static_s8, smoothed_s8),
        }
        wanted = args.only.split(",")
        variants = {
            k: v for k, v in variants.items() if any(w in k for w in wanted) or "current" in k
        }
        reference = on_lanes(ort_run, [session(fp32, threads=2, skip_layer_norm=False)], 1)(encoded)
        for fn in variants.values():
            fn(encoded[:8])  # first-run costs
        walls: dict[str, list[float]] = {name: [] for name in variants}
        loads: dict[str, list[float]] = {name: [] for name in variants}
        last: dict[str, np.ndarray] = {}
        for n in range(args.rounds):
            for name, fn in variants.items():
                loads[name].append(os.getloadavg()[0])
                wall = time.perf_counter()
                last[name] = fn(encoded)
                walls[name].append(len(encoded) / (time.perf_counter() - wall))
                print(
                    f"round {n + 1} {name:<58} {walls[name][-1]:6.1f} passages/s, "
                    f"load {loads[name][-1]:.2f}",
                    flush=True,
                )
        rows = []
        current = "int8 lanes (current), 2 x 1 thread, 1 text"
        for name, fn in variants.items():
            cos = (last[name] * reference).sum(axis=1)
            ratios = [w / c for w, c in zip(walls[name], walls[current], strict=True)]
            drift_cos, drift_abs = drift(fn, encoded, last[name], 40)
            rows.append(
                {
                    "variant": name,
                    "passages_per_s_median": float(np.median(walls[name])),
                    "ratio_to_current_median": float(np.median(ratios)),
                    "cosine_min": float(cos.min()),
                    "cosine_p01": float(np.percentile(cos, 1)),
                    "cosine_mean": float(cos.mean()),
                    "batch_drift_cosine_min": drift_cos,
                    "batch_drift_abs_max": drift_abs,
                    "load_min": round(min(loads[name]), 2),
                    "load_max": round(max(loads[name]), 2),
                }
            )
    md = (
        f"# Batched encoders against the int8 lanes\n\nMachine: {info['nproc']} cores, "
        f"{info['cpu']} (AVX-512 VNNI, AMX bf16/int8), {info['ram_gib']} GiB RAM, shared. "
        f"{len(encoded)} {args.dataset} passages (real chunker), mean {pieces:.0f} word pieces; "
        f"{args.rounds} interleaved rounds; ratio = median over rounds of (variant / current "
        f"lanes in the same round). Cosine is to the fp32 export, one text per run. Batch drift: "
        f"40 texts, batched run against one text per run. Command: "
        + command("bench_encoder_batching.py", args)
        + table(
            [
                "variant",
                "passages/s median",
                "ratio to current",
                "cosine min / 1st pct / mean",
                "batch drift cos min / abs max",
                "1-min load",
            ],
            [
                [
                    r["variant"],
                    round(r["passages_per_s_median"], 1),
                    f"{r['ratio_to_current_median']:.2f}",
                    f"{r['cosine_min']:.5f} / {r['cosine_p01']:.5f} / {r['cosine_mean']:.5f}",
                    f"{r['batch_drift_cosine_min']:.6f} / {r['batch_drift_abs_max']:.1e}",
                    f"{r['load_min']}-{r['load_max']}",
                ]
                for r in rows
            ],
        )
    )
    save("encoder_batching", {"dataset": args.dataset, "passages": len(encoded), "rows": rows}, md)


if __name__ == "__main__":
    main()
