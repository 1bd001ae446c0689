"""Corpus files whose suffix lies about what they hold: each is refused with one line that
says what the file really is and what to do, and the rest of the corpus is indexed."""

from __future__ import annotations

import os
from pathlib import Path

from hostile_support import cli, corpus_documents, keyword_doc_ids, make_corpus


def test_an_html_page_saved_as_pdf_is_named_as_html(tmp_path: Path) -> None:
    """A download that got the site's login page, saved as report.pdf: "not a readable PDF
    (Stream has ended unexpectedly)" quoted pypdf and named no fix."""
    corpus = make_corpus(tmp_path / "corpus")
    page = b"<!DOCTYPE html>\n<html><body><p>Please sign in to read this report.</p></body></html>"
    (corpus / "report.pdf").write_bytes(page)
    (corpus / "padded.pdf").write_bytes(b"\n\n  " + page.replace(b"<!DOCTYPE html>\n", b""))
    (corpus / "junk.pdf").write_bytes(b"not a pdf at all")
    code, out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert code == 0, err
    lines = (out + err).splitlines()
    for name in ("report.pdf", "padded.pdf"):
        [line] = [line for line in lines if name in line]
        assert "an HTML page" in line and "rename it" in line and "Stream" not in line, line
    [line] = [line for line in lines if "junk.pdf" in line]
    assert "not a readable PDF" in line and "HTML" not in line, line
    assert keyword_doc_ids(tmp_path / "index", "tomatoes garlic"), "the rest is indexed"


def test_add_of_a_pipe_a_device_or_nothing_says_what_it_is(tmp_path: Path) -> None:
    """`add /dev/zero` and `add FIFO.md` said "no such file", of files that exist; `add ''`
    said ". is a folder", of a folder never named."""
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    assert cli("build", "--corpus", corpus, "--index", index, "--quiet")[0] == 0
    before = corpus_documents(corpus)
    pipe = tmp_path / "notes.md"
    os.mkfifo(pipe)
    for source, said in (
        (pipe, "not a regular file (a pipe or a device?)"),
        ("/dev/zero", "not a regular file (a pipe or a device?)"),
        ("", "an empty argument"),
        ("  ", "an empty argument"),
    ):
        code, out, err = cli("add", source, "--corpus", corpus, "--index", index, "--quiet")
        assert code == 1, err
        [line] = [line for line in (out + err).splitlines() if line.startswith("failed")]
        assert said in line and "no such file" not in line and "folder" not in line, line
    assert corpus_documents(corpus) == before, "nothing was added"
