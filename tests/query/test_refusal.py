"""The refusal bar: set per index from unrelated probe questions, applied to the best sentence."""

from __future__ import annotations

import statistics

import pytest

from coverage_search import CoverageIndex
from coverage_search.query.answer import (
    ANSWER_DOCUMENT_PRIOR,
    ANSWER_PER_DOCUMENT,
    ANSWER_POOL,
    NOT_FOUND,
    answer_from_hits,
    best_cosine,
)
from coverage_search.query.evidence import MIN_COSINE, question_weights
from coverage_search.query.refusal import NULL_MARGIN, PROBES, refusal_floor
from coverage_search.records import SearchFilters
from query.test_answer import seed_index  # noqa: F401 - the module's seed fixture, reused


def test_floor_is_the_probes_median_plus_the_margin_never_under_min_cosine() -> None:
    assert refusal_floor([0.30, 0.31, 0.50]) == pytest.approx(0.31 + NULL_MARGIN)
    assert refusal_floor([0.01, 0.02, 0.03]) == MIN_COSINE  # a narrow corpus keeps the floor
    assert refusal_floor([]) == MIN_COSINE


def test_index_bar_comes_from_its_own_probes_and_is_computed_once(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    by_hand = [
        best_cosine(
            p,
            seed_index.search(
                p,
                k=ANSWER_POOL,
                per_document=ANSWER_PER_DOCUMENT,
                document_prior=ANSWER_DOCUMENT_PRIOR,
            ),
            seed_index.embedder,
        )
        for p in PROBES
    ]
    bar = seed_index.refusal_floor()
    assert bar == pytest.approx(max(MIN_COSINE, statistics.median(by_hand) + NULL_MARGIN))
    assert seed_index.refusal_floor() is bar  # cached for this opened build


def test_best_sentence_under_the_bar_refuses_but_keeps_the_passages(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    question = "When did OpenAI announce that Amodei was leaving?"
    hits = seed_index.search(
        question, k=5, per_document=ANSWER_PER_DOCUMENT, document_prior=ANSWER_DOCUMENT_PRIOR
    )
    weights = question_weights(seed_index.engine, question)
    best = best_cosine(question, hits, seed_index.embedder)

    kept = answer_from_hits(
        question, hits, seed_index.embedder, keyword_weights=weights, refuse_below=best - 0.001
    )
    refused = answer_from_hits(
        question, hits, seed_index.embedder, keyword_weights=weights, refuse_below=best + 0.01
    )
    assert kept.found and any("December 29, 2020" in c.sentence for c in kept.sentences)
    assert not refused.found and refused.message == NOT_FOUND and refused.hits
    assert "relax" not in NOT_FOUND  # no filter was on: nothing to relax
    filtered = answer_from_hits(
        question, hits, seed_index.embedder, keyword_weights=weights, refuse_below=best + 0.01,
        filters=SearchFilters(outlets=("Axios",), since="2020-01-01"),
    )  # fmt: skip
    assert filtered.message == (
        "No passage answers this closely enough with these filters; try other words, or relax "
        "the outlet filter (Axios) or the date range (2020-01-01 to …)."
    )
    # The bar decides whether to answer, not which sentences: sentences under it (each still
    # above MIN_COSINE) are quoted beside the best one.
    assert len(kept.sentences) >= 2
