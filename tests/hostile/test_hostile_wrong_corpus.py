"""A mistyped --corpus never empties an index: add, update and remove check the corpus first.

Before, `remove x --corpus typo` and `update --corpus typo` made the missing folder, and the
build that follows every change replaced the index's documents with that empty folder's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hostile_support import cli

from conftest import SEED_ARTICLE
from coverage_search import CorpusError, CoverageIndex, QueryError


@pytest.fixture()
def index(tmp_path: Path, embedder: Any) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_ARTICLE, corpus / SEED_ARTICLE.name)
    CoverageIndex.build(corpus, tmp_path / "index", progress=False)
    return corpus, tmp_path / "index"


def _documents(index: Path) -> int:
    return CoverageIndex.open(index).stats().documents


@pytest.mark.parametrize(
    "verb",
    [["remove", "nothing.md"], ["update"], ["add", str(SEED_ARTICLE)]],
    ids=["remove", "update", "add"],
)
def test_another_corpus_folder_is_refused_and_the_index_kept(
    index: tuple[Path, Path], tmp_path: Path, verb: list[str]
) -> None:
    _, index_dir = index
    typo = tmp_path / "corpsu"
    code, _out, err = cli(*verb, "--corpus", typo, "--index", index_dir, "--quiet")
    assert code == 1 and len(err.splitlines()) == 1
    assert "was built from" in err and "--corpus" in err
    assert not typo.exists()
    assert _documents(index_dir) == 1


def test_the_same_corpus_moved_or_copied_elsewhere_is_taken(
    index: tuple[Path, Path], tmp_path: Path
) -> None:
    """A project copied to another folder keeps working: its corpus holds the index's files."""
    corpus, index_dir = index
    moved = tmp_path / "moved-corpus"
    shutil.copytree(corpus, moved)
    report = CoverageIndex.remove([SEED_ARTICLE.name], corpus_dir=moved, index_dir=index_dir)
    assert report.removed == (SEED_ARTICLE.name,) and _documents(index_dir) == 0


def test_an_empty_corpus_folder_does_not_empty_the_index_without_force(
    index: tuple[Path, Path], tmp_path: Path
) -> None:
    _, index_dir = index
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match=r"holds no documents.*--force"):
        CoverageIndex.build(empty, index_dir, progress=False)
    assert _documents(index_dir) == 1
    CoverageIndex.build(empty, index_dir, progress=False, force=True)
    assert _documents(index_dir) == 0


def test_the_own_corpus_emptied_by_hand_is_followed_by_the_next_update(
    index: tuple[Path, Path],
) -> None:
    """The guard is for other folders: a change left behind in the own corpus is repaired."""
    corpus, index_dir = index
    (corpus / SEED_ARTICLE.name).unlink()
    report = CoverageIndex.update(corpus_dir=corpus, index_dir=index_dir, progress=False)
    assert report.build is not None and _documents(index_dir) == 0


def test_a_corpus_gone_and_another_without_its_documents_says_so(
    index: tuple[Path, Path], tmp_path: Path
) -> None:
    corpus, index_dir = index
    corpus.rename(tmp_path / "elsewhere")
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(CorpusError, match=r"which is gone, and .* does not hold its documents"):
        CoverageIndex.update(corpus_dir=other, index_dir=index_dir)
    assert _documents(index_dir) == 1


def test_removing_the_last_document_empties_the_index(index: tuple[Path, Path]) -> None:
    corpus, index_dir = index
    report = CoverageIndex.remove([SEED_ARTICLE.name], corpus_dir=corpus, index_dir=index_dir)
    assert report.removed == (SEED_ARTICLE.name,) and _documents(index_dir) == 0


def test_a_missing_corpus_folder_is_refused_by_update_and_remove_before_any_index(
    tmp_path: Path,
) -> None:
    for verb in (["update"], ["remove", "x.md"]):
        code, _out, err = cli(*verb, "--corpus", tmp_path / "nope", "--index", tmp_path / "i")
        assert code == 1 and "No corpus folder at" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, i: CoverageIndex.remove("doc.md", corpus_dir=c, index_dir=i), "list of texts"),
        (lambda c, i: CoverageIndex.add(None, corpus_dir=c, index_dir=i), "list of texts"),
        (lambda c, i: CoverageIndex.add([None], corpus_dir=c, index_dir=i), "must be text"),
        (lambda c, i: CoverageIndex.add([], feeds="http://x", corpus_dir=c, index_dir=i), "list"),
        (lambda c, i: CoverageIndex.update(corpus_dir=None, index_dir=i), "folder path"),
        (lambda c, i: CoverageIndex.remove(["a.md"], corpus_dir=c, index_dir=5), "folder path"),
        (lambda c, i: CoverageIndex.build(c, i, stemming=float("nan")), "True or False"),
        (lambda c, i: CoverageIndex.build(c, i, backend=["onnx"]), "backend must be a name"),
        (lambda c, i: CoverageIndex.build(c, i, chunking={"max_tokens": 5}), "ChunkSettings"),
    ],
    ids=[
        "str-documents",
        "none-sources",
        "none-item",
        "str-feeds",
        "none-corpus",
        "int-index",
        "nan-stemming",
        "list-backend",
        "dict-chunking",
    ],
)
def test_wrong_argument_types_are_one_query_error(
    index: tuple[Path, Path], call: Any, message: str
) -> None:
    corpus, index_dir = index
    with pytest.raises(QueryError, match=message):
        call(corpus, index_dir)
    assert _documents(index_dir) == 1


def test_wrong_values_for_the_rest_of_the_api_are_one_error(
    index: tuple[Path, Path], tmp_path: Path
) -> None:
    from coverage_search import SearchSettings, UploadError, store_upload, upload_limits

    corpus, index_dir = index
    opened = CoverageIndex.open(index_dir)
    (hit,) = opened.search("Amodei", k=1)
    for chars in ("600", None, 1.5, True, -1):
        with pytest.raises(QueryError, match="chars must be a whole number"):
            opened.passage_context(hit, chars=chars)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="SearchHit"):
        opened.passage_context("x")  # type: ignore[arg-type]
    for settings in ({"alpha": "x"}, {"rrf_k": -1}, {"min_candidates": float("nan")}):
        with pytest.raises(QueryError, match="must be"):
            SearchSettings(**settings)  # type: ignore[arg-type]
    for switches in ({"group_stories": "no"}, {"aliases": 0}):
        with pytest.raises(QueryError, match="must be True"):
            opened.search("Amodei", **switches)  # type: ignore[arg-type]
    for fusion in (False, 0, ["rrf"]):
        with pytest.raises(QueryError, match="Unknown fusion"):
            opened.search("Amodei", fusion=fusion)  # type: ignore[arg-type]
    assert opened.search("Amodei", fusion="rrf", k=1)
    with pytest.raises(QueryError, match="settings must be SearchSettings"):
        CoverageIndex.open(index_dir, settings={})  # type: ignore[arg-type]
    before = sorted(p.name for p in corpus.iterdir())
    for name, data, limit in ((None, b"# T\n\nText.", 10**6), ("a.md", "text", 10**6),
                              ("a.md", b"# T\n\nText.", float("nan"))):  # fmt: skip
        with pytest.raises((QueryError, UploadError)):
            store_upload(corpus, name, data, max_bytes=limit)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="corpus_dir must be a folder path"):
        store_upload("", "a.md", b"# T\n\nText.")
    assert sorted(p.name for p in corpus.iterdir()) == before
    with pytest.raises(QueryError, match="max_bytes"):
        upload_limits(float("nan"))  # type: ignore[arg-type]


def test_a_huge_timeout_is_refused_in_one_line(tmp_path: Path) -> None:
    """A timeout of 1e11 s overflowed threading's timer: a traceback, then OverflowError."""
    code, _out, err = cli("add", "http://127.0.0.1:9/x", "--timeout", "100000000000",
                          "--corpus", tmp_path / "c", "--index", tmp_path / "i")  # fmt: skip
    assert code == 2 and err.startswith("coverage-search: timeout must be a positive number")
    assert len(err.splitlines()) == 1
