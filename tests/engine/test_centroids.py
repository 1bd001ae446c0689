"""Document centroids in 4 bits a dimension: close to the mean, and damage reads as none."""

from __future__ import annotations

import numpy as np

from coverage_search.engine.local.centroids import decode, document_means, encode


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_means_follow_the_passage_counts_and_skip_documents_without_passages() -> None:
    vectors = unit_rows(10, 384)
    means = document_means(vectors, [3, 0, 5, 2])
    assert means.shape == (3, 384)
    for got, (a, b) in zip(means, [(0, 3), (3, 8), (8, 10)], strict=True):
        assert np.allclose(got, vectors[a:b].mean(axis=0), atol=1e-6)
    assert document_means(vectors[:0], [0, 0]).shape == (0, 384)


def test_codes_keep_dot_products_within_a_few_hundredths() -> None:
    vectors = unit_rows(400, 384, seed=1)
    means = document_means(vectors, [4] * 100)
    blobs = encode(means)
    assert {len(b) for b in blobs} == {4 + 192}  # float32 scale + two codes a byte
    decoded = decode(blobs, 384)
    queries = unit_rows(20, 384, seed=2)
    for mean, back in zip(means, decoded, strict=True):
        assert back is not None
        assert np.abs(queries @ mean - queries @ back).max() < 0.03
    odd = encode(means[:2, :5])  # an odd dimension is padded, then cut back
    assert all(v is not None and v.shape == (5,) for v in decode(odd, 5))
    zero = decode(encode(np.zeros((1, 384), dtype=np.float32)), 384)[0]
    assert zero is not None and not zero.any()


def test_damaged_blobs_decode_to_none() -> None:
    good = encode(document_means(unit_rows(2, 384), [2]))[0]
    nan_scale = np.array([np.nan], dtype="<f4").tobytes() + good[4:]
    huge_scale = np.array([1e9], dtype="<f4").tobytes() + good[4:]
    unwritten_code = good[:4] + b"\x00" + good[5:]
    for blob in (b"", good[:-1], good + b"x", nan_scale, huge_scale, unwritten_code, "text"):
        assert decode([blob], 384) == [None]  # type: ignore[list-item]
    assert decode([good], 384)[0] is not None
