"""Irregular forms in keyword search (measured, off by default: bench/results/inflections.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage_search import CoverageIndex, QueryError, SearchSettings
from coverage_search.query.inflections import with_inflections


def test_a_term_brings_its_irregular_forms_once() -> None:
    assert with_inflections(["leave", "openai"]) == ["leave", "left", "openai"]
    assert with_inflections(["men", "man"]) == ["men", "man"]
    assert with_inflections(["lead", "saw"]) == ["lead", "saw"]  # words of their own: alone


def test_with_inflections_on_keyword_search_finds_the_past_tense(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "exit.md").write_text("# Exit\n\nThe research chief left the lab in 2020.\n")
    (corpus / "other.md").write_text("# Other\n\nA cooking column on slow tomato sauce.\n")
    CoverageIndex.build(corpus, tmp_path / "index", progress=False)
    for on, found in ((False, []), (True, ["exit.md"])):
        index = CoverageIndex.open(tmp_path / "index", settings=SearchSettings(inflections=on))
        try:
            hits = index.search("leave", k=5, mode="keyword")
        finally:
            index.close()
        assert [h.doc_id for h in hits] == found
    with pytest.raises(QueryError, match="inflections must be True or False"):
        SearchSettings(inflections="yes")  # type: ignore[arg-type]
