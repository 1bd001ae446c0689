"""FAISS wrapper: every index kind finds the true neighbours, and filters keep to allowed ids."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import SEED_ARTICLE
from coverage_search.engine.local.vectors import KINDS, VectorIndex, choose_kind, ivf_lists


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", KINDS)
def test_nearest_neighbours_and_filters(kind: str, tmp_path: Path) -> None:
    vectors = _unit(2000)
    ids = np.arange(10, 2010, dtype=np.int64)
    index = VectorIndex.create(ids, vectors, kind=kind)
    index.save(tmp_path / "v.faiss")
    index = VectorIndex.load(tmp_path / "v.faiss", kind=kind)
    assert (index.kind, index.size) == (kind, 2000)
    top = index.search(vectors[7], 5)
    exact_scores = kind in ("flat", "hnsw")  # 8-bit codes give cosines to about 1e-3
    assert top[0][0] == 17
    assert top[0][1] == pytest.approx(1.0, abs=1e-5 if exact_scores else 2e-3)
    allowed = np.array([11, 500, 1999], dtype=np.int64)
    filtered = index.search(vectors[7], 5, allowed=allowed)
    assert {pid for pid, _ in filtered} == {11, 500, 1999}
    unknown = np.array([11, 99_999], dtype=np.int64)  # an id the index lacks is skipped
    assert [pid for pid, _ in index.search(vectors[7], 5, allowed=unknown)] == [11]
    assert index.search(vectors[7], 5, allowed=np.array([], dtype=np.int64)) == []


@pytest.fixture(scope="module")
def sentence_vectors(embedder: Any) -> np.ndarray:
    """Real MiniLM vectors of the seed article's sentences, with jittered copies up to 4,000."""
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 30]
    seeds = embedder.encode(sentences)
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(seeds), 4000)
    noise = rng.standard_normal((4000, seeds.shape[1])).astype(np.float32) / np.sqrt(384)
    vectors = seeds[picks] + rng.uniform(0.5, 1.0, (4000, 1)).astype(np.float32) * noise
    vectors[: len(seeds)] = seeds
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat_sq8", "hnsw_sq8", "ivf_sq8"])
def test_8bit_kinds_keep_recall_on_real_vectors(kind: str, sentence_vectors: np.ndarray) -> None:
    ids = np.arange(len(sentence_vectors), dtype=np.int64) * 3
    exact = VectorIndex.create(ids, sentence_vectors, kind="flat")
    index = VectorIndex.create(ids, sentence_vectors, kind=kind)
    queries = sentence_vectors[np.random.default_rng(5).permutation(len(ids))[:50]]
    allowed = ids[::40]  # a filter that leaves 100 passages
    for subset in (None, allowed):
        assert _recall_at_10(index, exact, queries, subset) >= 0.95


def _recall_at_10(
    index: VectorIndex, exact: VectorIndex, queries: np.ndarray, allowed: np.ndarray | None
) -> float:
    """Share of the exact top 10 (among `allowed`) that `index` finds, over `queries`."""
    found = [
        len(
            {p for p, _ in index.search(q, 10, allowed=allowed)}
            & {p for p, _ in exact.search(q, 10, allowed=allowed)}
        )
        for q in queries
    ]
    return float(np.mean(found)) / 10


def test_ivf_probes_more_cells_under_a_selective_filter(
    sentence_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coverage_search.engine.local import vectors

    # Four of ~100 cells unfiltered (recall@10 0.99: a sentence's copies share a cell). Under a
    # filter leaving 1 in 40 the nearest allowed vectors are copies of other sentences, in other
    # cells: probing 4 cells finds a third of them; 4 * 40**0.75 (64) finds all but a few, where
    # 4 * 40**0.5 (25) finds nine tenths.
    monkeypatch.setattr(vectors, "IVF_NPROBE", 4)
    ids = np.arange(len(sentence_vectors), dtype=np.int64)
    exact = VectorIndex.create(ids, sentence_vectors, kind="flat")
    index = VectorIndex.create(ids, sentence_vectors, kind="ivf_sq8")
    queries = sentence_vectors[np.random.default_rng(9).permutation(len(ids))[:50]]
    assert _recall_at_10(index, exact, queries, ids[5::40]) >= 0.95


def test_ivf_cells_have_enough_training_vectors() -> None:
    assert ivf_lists(1_000_000) == 4000
    assert ivf_lists(2000) == 51
    assert ivf_lists(10) == 1


def test_kind_follows_size() -> None:
    assert choose_kind(10_000) == "flat"
    assert choose_kind(40_000) == "flat_sq8"
    assert choose_kind(100_000) == "hnsw_sq8"
    assert choose_kind(5_000_000) == "ivf_sq8"


@pytest.mark.parametrize("kind", ["flat_sq8", "hnsw_sq8", "ivf_sq8"])
def test_a_build_records_its_8bit_kind_and_searches_with_filters(
    kind: str, small_corpus: Path, build_index: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coverage_search import CoverageIndex
    from coverage_search.build import layout
    from coverage_search.engine.local import vectors

    monkeypatch.setattr(vectors, "FLOAT_MAX", 0)  # as a corpus of 20k-50k passages would
    if kind != "flat_sq8":  # 50k-200k: HNSW over the codes; above: IVF
        monkeypatch.setattr(vectors, "SQ8_EXACT_MAX", 0)
    if kind == "ivf_sq8":
        monkeypatch.setattr(vectors, "GRAPH_MAX", 0)
    index = build_index(small_corpus)
    assert layout.require_live(index)[1]["vector_index"] == kind
    opened = CoverageIndex.open(index)
    try:
        assert opened.stats().vector_index == kind
        hits = opened.search("tokenized shares", mode="semantic", k=3)
        assert hits and hits[0].doc_id == "anthropic-tokens.md"
        only = opened.search("tokenized shares", mode="semantic", k=3, outlets="Crypto Briefing")
        assert {h.outlet for h in only} == {"Crypto Briefing"}
    finally:
        opened.close()


@pytest.mark.parametrize("order", ["ascending", "shuffled"])
def test_hnsw_codes_decoded_in_bulk_score_as_the_stored_vectors(order: str) -> None:
    vectors = _unit(3000, seed=4)
    ids = np.arange(5, 9005, 3, dtype=np.int64)
    if order == "shuffled":  # ids out of order: the bulk path must not mismatch them
        perm = np.random.default_rng(1).permutation(len(ids))
        ids, vectors = ids[perm], vectors[perm]
    index = VectorIndex.create(ids, vectors, kind="hnsw_sq8")
    allowed = np.sort(np.random.default_rng(2).choice(ids, 300, replace=False))
    found = index.search(vectors[0], 20, allowed=allowed)
    rows = {int(i): n for n, i in enumerate(ids)}
    truth = sorted(allowed, key=lambda i: -float(vectors[rows[int(i)]] @ vectors[0]))[:20]
    assert [pid for pid, _ in found][:10] == [int(i) for i in truth[:10]]
    for pid, score in found:
        assert score == pytest.approx(float(vectors[rows[pid]] @ vectors[0]), abs=2e-3)
    unknown = np.array([int(allowed[0]), 4], dtype=np.int64)  # 4 is no id: skipped
    assert [pid for pid, _ in index.search(vectors[0], 5, allowed=unknown)] == [int(allowed[0])]
