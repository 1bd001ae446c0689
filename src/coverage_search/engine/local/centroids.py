"""Document centroids: the mean of a document's passage vectors, stored in 4 bits a dimension.

A query's dot product with a centroid is the mean cosine of all the document's passages with
it: how much of the article is about the question, not only its best passage. Search adds a
little of it to every candidate (query/search.py). The prior is a small correction, so 4-bit
codes are plenty (a dot product moves by about 0.01) and cost 196 bytes a document for
MiniLM: 39 MB at a million passages of five each, where int8 would take twice that.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_SCALE = np.dtype("<f4")
_LEVELS = 7  # codes -7..7, stored as 1..15 in a nibble (0 is never written)


def document_means(vectors: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """One mean vector per document that has passages (`counts[i]` > 0), in order."""
    counts_array = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts_array)[:-1]))[counts_array > 0]
    if not len(starts):
        return np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    sums = np.add.reduceat(np.asarray(vectors, dtype=np.float32), starts, axis=0)
    means: np.ndarray = sums / counts_array[counts_array > 0][:, None]
    return means.astype(np.float32)


def encode(means: np.ndarray) -> list[bytes]:
    """Rows as blobs: a float32 scale, then two 4-bit codes a byte."""
    rows = np.atleast_2d(np.asarray(means, dtype=np.float32))
    if rows.shape[1] % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
    scales = (np.abs(rows).max(axis=1) / np.float32(_LEVELS)).astype(_SCALE)
    scales[scales == 0] = 1.0
    codes = (np.rint(rows / scales[:, None]).clip(-_LEVELS, _LEVELS) + 8).astype(np.uint8)
    packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
    return [s.tobytes() + p.tobytes() for s, p in zip(scales, packed, strict=True)]


def decode(blobs: Sequence[bytes], dim: int) -> list[np.ndarray | None]:
    """Blobs back as float32 `dim`-vectors; None for one that is damaged (wrong length, bad
    scale or a code never written), which then carries no prior."""
    width = _SCALE.itemsize + (dim + 1) // 2
    out: list[np.ndarray | None] = []
    for blob in blobs:
        if not isinstance(blob, bytes) or len(blob) != width:
            out.append(None)
            continue
        scale = float(np.frombuffer(blob[: _SCALE.itemsize], dtype=_SCALE)[0])
        packed = np.frombuffer(blob, dtype=np.uint8, offset=_SCALE.itemsize)
        codes = np.empty(2 * len(packed), dtype=np.uint8)
        codes[0::2], codes[1::2] = packed >> 4, packed & 0x0F
        # A centroid's components are at most 1: a larger or non-finite scale is damage.
        if not (np.isfinite(scale) and 0 < scale <= 1) or not codes.all():
            out.append(None)
            continue
        values = (codes[:dim].astype(np.float32) - 8) * np.float32(scale)
        out.append(values)
    return out
