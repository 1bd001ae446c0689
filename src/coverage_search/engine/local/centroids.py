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
_MAX_SCALE = 1.0001 / _LEVELS
_BLOCK = 256


def document_means(vectors: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """One mean vector per document that has passages (`counts[i]` > 0), in order."""
    counts_array = np.asarray(counts, dtype=np.int64)
    if int(counts_array.sum()) != len(vectors) or (counts_array < 0).any():
        raise ValueError(f"{counts_array.sum()} passages counted for {len(vectors)} vectors")
    held = counts_array > 0
    starts = np.concatenate(([0], np.cumsum(counts_array)[:-1]))[held]
    rows = np.asarray(vectors, dtype=np.float32)
    sums = np.empty((len(starts), rows.shape[1] if rows.ndim == 2 else 0), dtype=np.float32)
    # reduceat over a few hundred documents at a time: over all of them at once it took 9 s at
    # a million passages (cache misses), in blocks of 256 documents 1.3 s.
    for i in range(0, len(starts), _BLOCK):
        first, part = starts[i], starts[i : i + _BLOCK]
        end = starts[i + _BLOCK] if i + _BLOCK < len(starts) else len(rows)
        sums[i : i + _BLOCK] = np.add.reduceat(rows[first:end], part - first, axis=0)
    means: np.ndarray = sums / counts_array[held][:, None]
    return means.astype(np.float32)


def encode(means: np.ndarray) -> list[bytes]:
    """Rows as blobs: a float32 scale, then two 4-bit codes a byte."""
    rows = np.atleast_2d(np.asarray(means, dtype=np.float32))
    if rows.shape[1] % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
    scales = (np.abs(rows).max(axis=1) / np.float32(_LEVELS)).astype(_SCALE)
    scales[scales == 0] = 1 / _LEVELS  # a zero vector stays zero
    codes = (np.rint(rows / scales[:, None]).clip(-_LEVELS, _LEVELS) + 8).astype(np.uint8)
    packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
    return [s.tobytes() + p.tobytes() for s, p in zip(scales, packed, strict=True)]


def decode(blobs: Sequence[bytes], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Blobs as one float32 matrix of `dim` columns, a row per blob, and which rows are sound.

    A damaged blob (wrong length or type, a scale no centroid has, a code never written) is a
    row of zeros marked unsound: it carries no prior. All at once: one blob at a time took
    5 ms for the 200 documents of a search.
    """
    width = _SCALE.itemsize + (dim + 1) // 2
    sized = np.array([isinstance(b, bytes) and len(b) == width for b in blobs], dtype=bool)
    values = np.zeros((len(blobs), dim), dtype=np.float32)
    sound = np.zeros(len(blobs), dtype=bool)
    if not sized.any():
        return values, sound
    chosen = b"".join(b for b, ok in zip(blobs, sized, strict=True) if ok)
    raw = np.frombuffer(chosen, dtype=np.uint8).reshape(-1, width)
    scales = np.ascontiguousarray(raw[:, : _SCALE.itemsize]).view(_SCALE).ravel()
    packed = raw[:, _SCALE.itemsize :]
    codes = np.empty((len(raw), 2 * packed.shape[1]), dtype=np.uint8)
    codes[:, 0::2], codes[:, 1::2] = packed >> 4, packed & 0x0F
    # A centroid's components are at most 1, so its scale at most 1/7: more, or NaN, is damage.
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(scales) & (scales > 0) & (scales <= _MAX_SCALE) & codes.all(axis=1)
    rows = (codes[:, :dim].astype(np.float32) - 8) * np.where(ok, scales, 0)[:, None]
    values[sized], sound[sized] = rows, ok
    return values, sound


def cosines(blobs: Sequence[bytes], vector: np.ndarray) -> list[float | None]:
    """Each centroid's dot product with unit `vector` (its document's mean passage cosine),
    None for a damaged one; kept within [-1, 1] whatever the codes say."""
    values, sound = decode(blobs, len(vector))
    dots = np.clip(values @ np.asarray(vector, dtype=np.float32), -1.0, 1.0)
    return [float(d) if ok else None for d, ok in zip(dots, sound, strict=True)]
