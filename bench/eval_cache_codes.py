"""Quality of the embedding cache's 8-bit vectors against float16 ones: nDCG@10, one run.

    .venv/bin/python bench/eval_cache_codes.py [--datasets time1963 scifact]

Each collection is built twice by the real build: as the product stores vectors (a float32
scale and a byte a dimension, `build/embedding_cache.py`), and in a second index folder with
the cache's rounding swapped for the float16 rows of the format before (so its cache embeds
every passage again: a few minutes for SciFact). Every vector of a build goes through its
cache's rounding, fresh or cached. Semantic and hybrid nDCG@10 on the tune and confirm halves.
Results: bench/results/cache_codes.json/.md.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from evalkit import Prepared, prepare, rankings, scores
from machine import print_machine, save, table

from coverage_search.build import embedding_cache, run

MODES = ("semantic", "hybrid")


def _f16(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).astype(np.float16).astype(np.float32)


def _f16_blobs(vectors: Sequence[np.ndarray]) -> list[bytes]:
    return [np.asarray(v, dtype=np.float16).tobytes() for v in vectors]


def _f16_from_blob(blob: bytes, dim: int) -> np.ndarray | None:
    if len(blob) != 2 * dim:
        return None
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


@contextlib.contextmanager
def float16_rows() -> Iterator[None]:
    """The cache as it was before: float16 rows, float16 rounding of fresh vectors."""
    saved = (embedding_cache.to_blobs, embedding_cache.from_blob, run.as_cached)
    embedding_cache.to_blobs = _f16_blobs
    embedding_cache.from_blob = _f16_from_blob
    run.as_cached = _f16
    try:
        yield
    finally:
        embedding_cache.to_blobs, embedding_cache.from_blob, run.as_cached = saved


def score(prep: Prepared) -> dict[str, dict[str, float]]:
    out = {}
    for mode in MODES:
        ranked = rankings(prep, prep.tune + prep.confirm, mode=mode)
        out[mode] = {
            half: scores(prep, {q: ranked[q] for q in ids})["ndcg_at_10"]
            for half, ids in (
                ("all", prep.tune + prep.confirm),
                ("tune", prep.tune),
                ("confirm", prep.confirm),
            )
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["time1963", "scifact"])
    args = parser.parse_args()
    info = print_machine()
    results: dict[str, Any] = {}
    rows = []
    for name in args.datasets:
        results[name] = {}
        for label, stored in (("8-bit (product)", "index"), ("float16 (before)", "index-f16")):
            with float16_rows() if stored == "index-f16" else contextlib.nullcontext():
                prep = prepare(name, progress=False, label=stored)
                got = score(prep)
            results[name][label] = {**got, "embedded": prep.embedded}
            for mode in MODES:
                s = got[mode]
                rows.append(
                    [
                        name,
                        label,
                        mode,
                        f"{s['all']:.4f} ({s['tune']:.4f} / {s['confirm']:.4f})",
                        prep.embedded,
                    ]
                )
                print("  ", *rows[-1], flush=True)
    header = (
        "# Embedding cache: 8-bit vectors against float16 (nDCG@10, tune / confirm)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, 1-min load "
        f"{info['load_1min_at_start']} at start. Both builds of a collection in one run.\n\n"
    )
    md = table(
        ["collection", "cache rows", "mode", "nDCG@10 all (tune / confirm)", "embedded"], rows
    )
    save("cache_codes", results, header + md)


if __name__ == "__main__":
    main()
