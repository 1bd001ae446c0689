"""Invalid UTF-8 and lone surrogates, in arguments, API strings and file names: never a crash.

On the command line, bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape),
so the CLI cases run as real processes with a bytes argv. Expected: exit 0, or one line with
exit 1 or 2; never "unexpected", never a traceback. The API must return results or raise a
CoverageSearchError (QueryError for a bad query), nothing else.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
from hostile_support import (
    assert_ok_or_one_line_error,
    cli,
    keyword_doc_ids,
    make_corpus,
    run_module,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("encoding")
    corpus = make_corpus(root / "corpus")
    index = root / "index"
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    return {"root": root, "corpus": corpus, "index": index}


@pytest.fixture(scope="module")
def opened(built: dict[str, Path]) -> Any:
    from coverage_search import CoverageIndex

    index = CoverageIndex.open(built["index"])
    yield index
    index.close()


def _assert_process_ok_or_one_line(done: Any) -> None:
    err = done.stderr.decode("utf-8", errors="replace")
    assert_ok_or_one_line_error(done.returncode, err)


CLI_CASES = {
    "search-hybrid": [b"search", b"Amodei\xff"],
    "search-semantic": [b"search", b"Amodei\xff", b"--mode", b"semantic"],
    "search-keyword": [b"search", b"Amodei\xff", b"--mode", b"keyword"],
    "ask": [b"ask", b"Why did Amodei\xff leave?"],
    "outlet": [b"search", b"Amodei", b"--outlet", b"Win\xff"],
    "language": [b"search", b"Amodei", b"--language", b"e\xff"],
    "since": [b"search", b"Amodei", b"--since", b"2026-01-0\xff"],
    "ask-outlet": [b"ask", b"Why did Amodei leave?", b"--outlet", b"Ax\xc3"],
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_with_invalid_utf8_arguments_never_crashes(built: dict[str, Path], case: str) -> None:
    """`coverage-search search $'Amodei\\xff'` etc. (bytes argv): exit 0 or one clean line."""
    done = run_module([*CLI_CASES[case], b"--index", os.fsencode(built["index"])])
    _assert_process_ok_or_one_line(done)


def _api_ok_or_query_error(call: Any) -> None:
    from coverage_search import CoverageSearchError

    with contextlib.suppress(CoverageSearchError):
        call()


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_api_search_with_a_lone_surrogate(opened: Any, mode: str) -> None:
    """`idx.search("Amodei\\udcff", mode=...)` returns hits or raises QueryError."""
    _api_ok_or_query_error(lambda: opened.search("Amodei\udcff", mode=mode))


def test_api_answer_with_a_lone_high_surrogate(opened: Any) -> None:
    """`idx.answer("\\ud800 why")` answers or raises QueryError."""
    _api_ok_or_query_error(lambda: opened.answer("\ud800 why did Amodei leave OpenAI"))


@pytest.mark.parametrize(
    "filters",
    [
        {"outlets": ["Win\udcff"]},
        {"outlets": "Axios\ud800"},
        {"language": "e\udcff"},
        {"since": "2026-01-0\udcff"},
    ],
    ids=["outlets-list", "outlet-str", "language", "since"],
)
def test_api_filters_with_surrogates(opened: Any, filters: dict[str, Any]) -> None:
    """Filters holding lone surrogates: hits or a QueryError, in search and answer."""
    _api_ok_or_query_error(lambda: opened.search("Amodei", **filters))
    _api_ok_or_query_error(lambda: opened.answer("Why did Amodei leave?", **filters))


def test_api_document_lookup_with_a_surrogate(opened: Any) -> None:
    """`idx.document("caf\\udce9.md")` is None (no such document) or a CoverageSearchError."""
    _api_ok_or_query_error(lambda: opened.document("caf\udce9.md"))


# -- file names that are not UTF-8 --------------------------------------------------------------


def _write_bytes_path(path: bytes, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [b"caf\xe9-jaguar.md", b"d\xff/jaguar.md", b"jaguar-\xed\xa0\x80.txt"],
    ids=["latin1-file-name", "invalid-folder-name", "encoded-surrogate-file-name"],
)
def test_build_with_a_non_utf8_file_name(tmp_path: Path, name: bytes) -> None:
    """A corpus file whose name is not UTF-8 is indexed or skipped with a notice; no crash."""
    corpus = make_corpus(tmp_path / "corpus")
    target = os.fsencode(corpus) + b"/" + name
    os.makedirs(os.path.dirname(target), exist_ok=True)
    _write_bytes_path(target, b"# Jaguar\n\nA jaguarwordomega crossed the road at dawn.\n")
    index = tmp_path / "index"
    done = run_module(["build", "--corpus", str(corpus), "--index", str(index), "--quiet"])
    err = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == 0, f"build failed: {err}"
    assert "unexpected" not in err.lower() and "Traceback" not in err
    assert keyword_doc_ids(index, "tomatoes garlic"), "the other documents must still be indexed"
    if not keyword_doc_ids(index, "jaguarwordomega"):
        assert "jaguar" in err, f"the file was left out without a notice: {err!r}"
    shown = run_module(["search", "jaguarwordomega", "--index", str(index), "--mode", "keyword"])
    _assert_process_ok_or_one_line(shown)
    stats = run_module(["stats", "--index", str(index)])
    assert stats.returncode == 0, stats.stderr


@pytest.mark.slow
def test_add_of_a_file_with_a_non_utf8_name(tmp_path: Path) -> None:
    """`coverage-search add $'caf\\xe9.md'`: added (and searchable) or one clean line."""
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    outside = os.fsencode(tmp_path) + b"/caf\xe9-ocelot.md"
    _write_bytes_path(outside, b"# Ocelot\n\nAn ocelotwordpi story from a small cafe.\n")
    done = run_module(
        [b"add", outside, b"--corpus", os.fsencode(corpus), b"--index", os.fsencode(index)]
    )
    _assert_process_ok_or_one_line(done)
    if done.returncode == 0:
        assert keyword_doc_ids(index, "ocelotwordpi"), "added but not searchable"


def test_bidi_overrides_in_document_text_never_reach_the_terminal(tmp_path: Path) -> None:
    """U+202E in a passage reversed what the terminal showed ("txt.exe gnp." reads as a .png);
    search, ask and --explain print such characters as spaces (JSON escapes them)."""
    from hostile_support import cli

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = "The quantum marmalade file \u202etxt.exe gnp.\u202c was sent to the zebra desk. " * 3
    (corpus / "bidi.md").write_text(f"# Zebra \u202equantum\u202c desk\n\n{body}\n")
    index = tmp_path / "index"
    assert cli("build", "--corpus", corpus, "--index", index, "--quiet")[0] == 0
    for argv in (("search", "zebra quantum marmalade"), ("ask", "zebra marmalade", "--explain")):
        code, out, err = cli(*argv, "--index", index)
        assert code == 0, err
        assert "marmalade" in out and not any(c in out for c in "\u202e\u202c"), out


def test_the_terminal_keeps_the_joiners_words_need() -> None:
    """Soft hyphens, ZWNJ (Persian) and ZWJ (emoji) stay; bidi overrides become spaces."""
    from coverage_search.cli.output import one_line

    assert one_line("infor\u00admation \u0645\u06cc\u200c\u062e \U0001f468\u200d\U0001f469") == (
        "infor\u00admation \u0645\u06cc\u200c\u062e \U0001f468\u200d\U0001f469"
    )
    assert one_line("a\u202eb\u2066c\x1bd") == "a b c d"


def test_utf16_without_a_byte_order_mark_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """Notepad's "Unicode" without its BOM, as .txt, .md and .html: still refused (not guessed),
    but named as UTF-16 with the fix, where "binary data, not text" said neither."""
    corpus = make_corpus(tmp_path / "corpus")
    story = "The Responsible Scaling Policy was published by Anthropic in 2023.\r\n"
    (corpus / "notes-le.txt").write_bytes(story.encode("utf-16-le"))
    (corpus / "notes-be.md").write_bytes(f"# Notes\n\n{story}".encode("utf-16-be"))
    (corpus / "page.html").write_bytes(f"<html><p>{story}</p></html>".encode("utf-16-le"))
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
    code, out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert code == 0, err
    lines = (out + err).splitlines()
    for name in ("notes-le.txt", "notes-be.md", "page.html"):
        [line] = [line for line in lines if name in line]
        assert "UTF-16" in line and "re-save it as UTF-8" in line, line
    [line] = [line for line in lines if "image.txt" in line]
    assert "binary data" in line and "UTF-16" not in line, line
    assert keyword_doc_ids(tmp_path / "index", "tomatoes garlic"), "the rest is indexed"
