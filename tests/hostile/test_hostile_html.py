"""Deeply nested HTML: the text is indexed, or the file is skipped with a clear notice.

Never silently dropped, and never "no readable text" for a page that has text. Each page hides a
unique word at its innermost level; after the build, a keyword search for the word must find
the page, or the build report must list the page as skipped with a reason that is not "no
(readable) text".
"""

from __future__ import annotations

from typing import Any

import pytest
from hostile_support import make_corpus

PAGES = {
    "deep-divs.html": (
        "zebrawordalpha",
        "<html><body>"
        + "<div>" * 100_000
        + "<p>The zebrawordalpha lives in the innermost paragraph of this page.</p>"
        + "</div>" * 100_000
        + "</body></html>",
    ),
    "nested-bold.html": (
        "quokkawordbeta",
        "<html><body><p>"
        + "<b>" * 50_000
        + "A quokkawordbeta in bold, deep inside."
        + "</b>" * 50_000
        + "</p></body></html>",
    ),
    "nested-span.html": (
        "lemurwordgamma",
        "<html><body><p>"
        + "<span>" * 50_000
        + "A lemurwordgamma in many spans."
        + "</span>" * 50_000
        + "</p></body></html>",
    ),
    "shallow-then-deep.html": (
        "narwhalworddelta",
        "<html><body><p>A shallow paragraph with the word ocelotwordeps, readable at once.</p>"
        + "<div>" * 100_000
        + "<p>The narwhalworddelta is deep inside.</p>"
        + "</div>" * 100_000
        + "</body></html>",
    ),
    "nested-lists.html": (
        "tapirwordzeta",
        "<html><body>"
        + "<ul><li>" * 20_000
        + "A tapirwordzeta at the bottom of the list."
        + "</li></ul>" * 20_000
        + "</body></html>",
    ),
    "unclosed-divs.html": (
        "dingowordeta",
        "<html><body>" + "<div>" * 100_000 + "<p>A dingowordeta where no tag is closed.",
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from coverage_search import CoverageIndex

    root = tmp_path_factory.mktemp("html")
    corpus = make_corpus(root / "corpus")
    for name, (_, html) in PAGES.items():
        (corpus / name).write_text(html, encoding="utf-8")
    report = CoverageIndex.build(corpus, root / "index", progress=False)
    index = CoverageIndex.open(root / "index")
    yield {"report": report, "index": index}
    index.close()


def _found(index: Any, word: str, doc_id: str) -> bool:
    return any(h.doc_id == doc_id for h in index.search(word, mode="keyword", k=10))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PAGES))
def test_deeply_nested_text_is_indexed_or_skipped_with_a_clear_notice(
    built: dict[str, Any], name: str
) -> None:
    """The innermost word is searchable, or the page is skipped for a reason other than no text."""
    word, _ = PAGES[name]
    skipped = {s.path: s.reason for s in built["report"].skipped}
    if name in skipped:
        reason = skipped[name].lower()
        assert reason.strip(), "skipped without a reason"
        assert "no readable text" not in reason and "no text" not in reason, (
            f"{name} has text, yet the build says: {skipped[name]!r}"
        )
        return
    assert _found(built["index"], word, name), f"{name} was indexed without its text {word!r}"


@pytest.mark.slow
def test_shallow_text_survives_next_to_deep_nesting(built: dict[str, Any]) -> None:
    """The shallow paragraph of shallow-then-deep.html is searchable unless the page is skipped."""
    skipped = {s.path for s in built["report"].skipped}
    if "shallow-then-deep.html" not in skipped:
        assert _found(built["index"], "ocelotwordeps", "shallow-then-deep.html")
