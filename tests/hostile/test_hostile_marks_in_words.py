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
