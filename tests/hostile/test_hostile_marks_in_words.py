"""Invisible marks inside a document's words: a soft hyphen from a web page, a zero-width space.

Queries lost them already (clean_query), but the documents kept them in their keyword text, so
"An\u00adthropic" in a page was indexed as "an" and "thropic" and a search for Anthropic missed
the story. Both engines now index words without them; the text shown stays as written.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from conftest import write_doc

_MARKED = (
    "# Pricing\n\nThe lab An\u00adthropic raised the price of its Clau\u200bde plans for "
    "schools in Norway, its Ber\u2060gen office said on Friday."
)


@pytest.mark.parametrize("engine", ["local", "milvus"])
def test_a_word_cut_by_an_invisible_mark_is_found_whole(
    tmp_path: Path, embedder, engine: str
) -> None:
    from coverage_search import CoverageIndex

    corpus = tmp_path / "corpus"
    write_doc(corpus, "marked.md", _MARKED, title="Pricing", outlet="Wire")
    write_doc(corpus, "plain.md", "# Rain\n\nIt rained in Oslo all week.", title="Rain")
    CoverageIndex.build(corpus, tmp_path / "index", engine=engine, progress=False)
    with contextlib.closing(CoverageIndex.open(tmp_path / "index")) as index:
        for query in ("Anthropic", "Claude plans", "Bergen", "An\u00adthropic"):
            hits = index.search(query, k=2, mode="keyword")
            assert [h.doc_id for h in hits] == ["marked.md"], query
        # the passage is shown as the file has it, marks and all
        assert "An\u00adthropic" in index.search("Anthropic", k=1, mode="keyword")[0].text
        # the halves a mark made are no longer words of their own
        assert not index.search("thropic", k=2, mode="keyword")
        # nor in the counts that weigh a question's words (Milvus's side database)
        assert index.engine.term_docs(["anthrop", "thropic"])[0] == [1, 0]


def test_a_zero_width_space_between_thai_words_still_parts_them(tmp_path: Path, embedder) -> None:
    """Thai, Lao, Khmer and Myanmar text marks word breaks with zero-width spaces alone:
    dropping every one joined "ประเทศ\u200bไทย" into one word, and a search for ไทย missed it."""
    from coverage_search import CoverageIndex

    corpus = tmp_path / "corpus"
    write_doc(corpus, "thai.md", "# ข่าว\n\nประเทศ\u200bไทย\u200bมี\u200bฝน\u200bตก", title="ข่าว")
    write_doc(corpus, "plain.md", "# Rain\n\nIt rained in Oslo all week.", title="Rain")
    CoverageIndex.build(corpus, tmp_path / "index", progress=False)
    with contextlib.closing(CoverageIndex.open(tmp_path / "index")) as index:
        assert [h.doc_id for h in index.search("ไทย", k=2, mode="keyword")] == ["thai.md"]
        assert [h.doc_id for h in index.search("ประเทศ", k=2, mode="keyword")] == ["thai.md"]
