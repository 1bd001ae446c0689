"""Convex fusion's keyword confidence: a keyword list whose best match covers little of the
query counts for less (measured, off by default: bench/results/keyword_confidence.md)."""

from __future__ import annotations

import math

import pytest

from coverage_search import SearchSettings
from coverage_search.errors import QueryError
from coverage_search.query.fusion import fuse
from coverage_search.query.terms import idf_mass

SEMANTIC = [(1, 0.9), (2, 0.5), (3, 0.1)]
KEYWORD = [(3, 4.0), (2, 1.0)]


def test_without_confidence_the_best_keyword_match_counts_in_full() -> None:
    fused = dict(fuse(SEMANTIC, KEYWORD, SearchSettings(), keyword_mass=40.0))
    assert fused[3] == pytest.approx(0.5)  # semantic 0 after min-max, keyword 1
    assert fused[1] == pytest.approx(0.5)


def test_a_weak_keyword_match_weighs_as_much_as_it_covers() -> None:
    settings = SearchSettings(keyword_confidence=1.0)
    weak = dict(fuse(SEMANTIC, KEYWORD, settings, keyword_mass=40.0))  # best covers a tenth
    assert weak[3] == pytest.approx(0.5 * 0.1) and weak[1] == pytest.approx(0.5)
    full = dict(fuse(SEMANTIC, KEYWORD, settings, keyword_mass=4.0))  # covers it all
    assert full[3] == pytest.approx(0.5)
    assert dict(fuse(SEMANTIC, KEYWORD, settings, keyword_mass=0.0))[3] == pytest.approx(0.5)


def test_idf_mass_is_the_bm25_of_one_match_of_each_term() -> None:
    assert idf_mass(["rare", "absent"], [1, 0], 100) == pytest.approx(math.log(1 + 99.5 / 1.5))
    with pytest.raises(QueryError, match=r"keyword_confidence must be a number from 0\.0 to 10\.0"):
        SearchSettings(keyword_confidence=-1)
