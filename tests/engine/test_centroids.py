"""Document centroids in 4 bits a dimension: close to the mean, and damage reads as none."""

from __future__ import annotations

import numpy as np
import pytest

from coverage_search.engine.local.centroids import cosines, decode, document_means, encode


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
    for wrong in ([1, 1], [11], [12, -2]):  # counts that do not add up to the vectors
        with pytest.raises(ValueError):
            document_means(vectors, wrong)


def test_codes_keep_dot_products_within_a_few_hundredths() -> None:
    means = document_means(unit_rows(400, 384, seed=1), [4] * 100)
    blobs = encode(means)
    assert {len(b) for b in blobs} == {4 + 192}  # float32 scale + two codes a byte
    values, sound = decode(blobs, 384)
    assert sound.all()
    queries = unit_rows(20, 384, seed=2)
    assert np.abs(means @ queries.T - values @ queries.T).max() < 0.03
    for query in queries[:3]:
        got = cosines(blobs, query)
        assert np.allclose(np.array(got, dtype=np.float32), means @ query, atol=0.03)
    odd, odd_sound = decode(encode(means[:2, :5]), 5)  # an odd dimension is padded, then cut
    assert odd.shape == (2, 5) and odd_sound.all()
    zero, zero_sound = decode(encode(np.zeros((1, 384), dtype=np.float32)), 384)
    assert zero_sound.all() and not zero.any()


def test_damaged_blobs_carry_no_prior() -> None:
    good = encode(document_means(unit_rows(2, 384), [2]))[0]
    nan_scale = np.array([np.nan], dtype="<f4").tobytes() + good[4:]
    big_scale = np.array([0.9], dtype="<f4").tobytes() + good[4:]  # more than 1/7: not a mean
    unwritten_code = good[:4] + b"\x00" + good[5:]
    damaged = [b"", good[:-1], good + b"x", nan_scale, big_scale, unwritten_code, "text"]
    query = unit_rows(1, 384, seed=3)[0]
    assert cosines([*damaged, good], query)[:-1] == [None] * len(damaged)  # type: ignore[list-item]
    assert cosines([good], query)[0] is not None
    values, sound = decode(damaged, 384)  # type: ignore[arg-type]
    assert not sound.any() and not values.any()
    assert cosines([], query) == []
