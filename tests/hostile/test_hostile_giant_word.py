"""A 2 MiB single "word" inside a document: passages stay small, the text around stays searchable.

Every passage the index returns must be at most a few thousand characters (< 5000), the
passage count must stay sensible, and the words before and after the giant token must still
find the document.
"""

from __future__ import annotations

from typing import Any

import pytest
from hostile_support import make_corpus

GIANT = 2_097_152
DOCS = {
    "giant-x.md": (
        "wombatwordfirst",
        "platypuswordlast",
        "# A page with a giant word\n\nBefore the blob comes wombatwordfirst, in a normal "
        "sentence about marsupials.\n\n" + "x" * GIANT + "\n\nAfter the blob comes "
        "platypuswordlast, in another normal sentence about monotremes.\n",
    ),
    "giant-token.txt": (
        "koalawordbefore",
        "echidnawordafter",
        "A report on tokens\n\nThe koalawordbefore sentence opens the report.\n\n"
        + ("a1b2c3d4e5f6g7h8i9j0" * (GIANT // 20 + 1))[:GIANT]
        + "\n\nThe echidnawordafter sentence closes the report.\n",
    ),
    "giant-base64.md": (
        "dugongwordintro",
        "manateewordoutro",
        "# An embedded image\n\nThe dugongwordintro paragraph explains the chart.\n\n"
        "![chart](data:image/png;base64," + ("QUJDRGVmZ2g0NTY3" * (GIANT // 16)) + ")\n\n"
        "The manateewordoutro paragraph ends the article.\n",
    ),
}
MAX_PASSAGE = 5000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from coverage_search import CoverageIndex

    root = tmp_path_factory.mktemp("giant")
    corpus = make_corpus(root / "corpus")
    for name, (_, _, text) in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    report = CoverageIndex.build(corpus, root / "index", progress=False)
    index = CoverageIndex.open(root / "index")
    yield {"report": report, "index": index}
    index.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DOCS))
def test_passages_around_a_giant_word_are_small(built: dict[str, Any], name: str) -> None:
    """Every passage of the document, found by the words around the token, is < 5000 chars."""
    before, after, _ = DOCS[name]
    index = built["index"]
    for query in (before, after, f"{before} {after}"):
        for mode in ("keyword", "semantic", "hybrid"):
            for hit in index.search(query, k=20, mode=mode, per_document=0):
                if hit.doc_id != name:
                    continue
                assert len(hit.text) < MAX_PASSAGE, (
                    f"{mode} search {query!r} returned a {len(hit.text):,}-character passage "
                    f"of {hit.doc_id}"
                )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DOCS))
def test_text_around_a_giant_word_is_still_searchable(built: dict[str, Any], name: str) -> None:
    """The words before and after the giant token each find the document."""
    before, after, _ = DOCS[name]
    assert name not in {s.path for s in built["report"].skipped}, "the document was skipped"
    for word in (before, after):
        hits = built["index"].search(word, k=5, mode="keyword")
        assert any(h.doc_id == name for h in hits), f"{word!r} does not find {name}"


@pytest.mark.slow
def test_no_search_returns_a_huge_passage(built: dict[str, Any]) -> None:
    """Whatever the query, no hit of the index is 5000 characters or more."""
    index = built["index"]
    for query in ("marsupials and monotremes", "report on tokens", "chart", "x", "Anthropic"):
        for mode in ("keyword", "semantic", "hybrid"):
            sizes = [
                (h.doc_id, len(h.text))
                for h in index.search(query, k=50, mode=mode, per_document=0)
            ]
            assert all(n < MAX_PASSAGE for _, n in sizes), (query, mode, sizes)


@pytest.mark.slow
def test_passage_count_stays_sensible(built: dict[str, Any]) -> None:
    """Giant tokens do not explode the index: passages at least one per document, at most 5000."""
    stats = built["index"].stats()
    assert stats.documents >= len(DOCS)
    assert stats.documents <= stats.passages <= 5000, stats.passages
