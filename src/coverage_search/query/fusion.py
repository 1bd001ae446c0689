"""Fusion of the dense and keyword lists (convex on min-max scores, or RRF), the document
prior, and ranks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from coverage_search.errors import QueryError
from coverage_search.records import RetrieverHit

if TYPE_CHECKING:
    from coverage_search.query.settings import SearchSettings

FUSIONS = ("convex", "rrf")


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {i: (s - lo) / (hi - lo) for i, s in scores.items()}


def fuse(
    semantic: Sequence[tuple[int, float]],
    keyword: Sequence[tuple[int, float]],
    settings: SearchSettings,
    *,
    keyword_mass: float = 0.0,
) -> list[tuple[int, float]]:
    """Passage ids with fused scores, best first. Each list is (id, score), best first.

    With `keyword_confidence` set, the keyword side weighs as much as its best passage
    covers the query: its score over that share of `keyword_mass` (terms.idf_mass), at most
    1. Min-max makes the best keyword match 1 however little of the question it holds.
    """
    if settings.fusion == "rrf":
        fused: dict[int, float] = {}
        for ranked in (semantic, keyword):
            for rank, (pid, _) in enumerate(ranked, start=1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (settings.rrf_k + rank)
    elif settings.fusion == "convex":
        sem = _minmax(dict(semantic))
        kw = _minmax(dict(keyword))
        a = settings.alpha
        b = 1 - a
        if settings.keyword_confidence > 0 and keyword and keyword_mass > 0:
            b *= min(1.0, keyword[0][1] / (settings.keyword_confidence * keyword_mass))
        fused = {
            pid: a * sem.get(pid, 0.0) + b * kw.get(pid, 0.0) for pid in sem.keys() | kw.keys()
        }
    else:
        raise QueryError(f"Unknown fusion {settings.fusion!r}: use one of {', '.join(FUSIONS)}.")
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def retriever_ranks(ranked: Sequence[tuple[int, float]]) -> dict[int, RetrieverHit]:
    """Each passage's 1-based rank and raw score in one retriever's list."""
    return {
        pid: RetrieverHit(rank=i, score=score) for i, (pid, score) in enumerate(ranked, start=1)
    }


def with_document_prior(
    ranked: Sequence[tuple[int, float]],
    document_of: Mapping[int, str],
    mean_cosines: Mapping[str, float],
    weight: float,
) -> list[tuple[int, float]]:
    """`ranked` with `weight` × the mean cosine of each passage's whole document added.

    A question about an article matches many of its passages a little, a stray passage of
    another story matches it once: the document's mean says which. Passages of a document
    without one get nothing added; ties keep the fused order.
    """
    scored = [
        (pid, s + weight * mean_cosines.get(document_of.get(pid, ""), 0.0)) for pid, s in ranked
    ]
    return sorted(scored, key=lambda item: -item[1])
