"""A long-lived CoverageIndex: builds from elsewhere replace its build; a closed one stays closed.

Found by a hostile pass: after two builds by another process (cron's `update`), `stats()` of an
index opened before raised a raw FileNotFoundError on every call, and any call after `close()`
a raw sqlite3.ProgrammingError.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import cli, make_corpus

from coverage_search import CoverageIndex, IndexCorruptError, QueryError


def test_an_index_whose_build_was_replaced_says_to_open_it_again(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    assert cli("build", "--corpus", corpus, "--index", index, "--quiet")[0] == 0
    opened = CoverageIndex.open(index)
    try:
        before = opened.stats().documents
        for n in range(2):  # two newer builds: the one `opened` reads is swept
            (corpus / f"new-{n}.md").write_text(f"# New {n}\n\nA new story, number {n}.\n")
            assert cli("build", "--corpus", corpus, "--index", index, "--quiet")[0] == 0
        with pytest.raises(IndexCorruptError, match="replaced by newer builds since: open"):
            opened.stats()
        assert opened.search("Amodei", k=2)  # still answers from what it holds
    finally:
        opened.close()
    reopened = CoverageIndex.open(index)
    try:
        assert reopened.stats().documents == before + 2
    finally:
        reopened.close()


def test_a_closed_index_says_so(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    assert cli("build", "--corpus", corpus, "--index", index, "--quiet")[0] == 0
    opened = CoverageIndex.open(index)
    opened.close()
    for call in (lambda: opened.search("Amodei"), opened.stats, lambda: opened.answer("Who?")):
        with pytest.raises(QueryError, match="closed: open it again"):
            call()


@pytest.mark.parametrize("folder", [None, 5, b"index", ["index"], "", "a\x00b", "\ud800"])
def test_open_and_build_take_only_folder_paths(folder: object) -> None:
    with pytest.raises(QueryError, match="must be a folder path"):
        CoverageIndex.open(folder)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="must be a folder path"):
        CoverageIndex.build(folder, "index", progress=False)  # type: ignore[arg-type]


def test_a_model_that_is_not_text_is_one_sentence(tmp_path: Path) -> None:
    from coverage_search import ModelError

    with pytest.raises(ModelError, match="model must be a name or a folder"):
        CoverageIndex.build(make_corpus(tmp_path / "c"), tmp_path / "i", model=5, progress=False)  # type: ignore[arg-type]
