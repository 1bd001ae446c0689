"""Hostile pass 18: PDFs, feeds and fetching, exports, uploads and corpus files.

A PDF of thousands of pages, all one heavy content stream, earned half a second of CPU per page
it claimed: a 700 KB file held a build for the best part of an hour.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import cli, keyword_doc_ids, make_corpus

from pdfutil import write_minimal_pdf


def test_a_pdf_of_many_pages_gets_no_more_than_five_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget grew with the pages a file claims (60 s + 0.5 s a page): a file of 5,000
    pages pointing at one stream of millions of operators (16 s a page) was read for 2,560 s."""
    from coverage_search.sources import pdf

    clock = iter(range(100_000))  # a page costs a second of this clock
    monkeypatch.setattr(pdf, "_clock", lambda: float(next(clock)))
    corpus = make_corpus(tmp_path / "corpus")
    write_minimal_pdf(corpus / "claims.pdf", [f"Page {n}." for n in range(2000)])
    code, out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert code == 0, err
    [line] = [line for line in (out + err).splitlines() if "claims.pdf" in line]
    assert "took over 300 s of CPU" in line and "split it" in line, line
    assert next(clock) < 320, "read on past the cap"
    assert keyword_doc_ids(tmp_path / "index", "tomatoes garlic"), "the rest is indexed"
