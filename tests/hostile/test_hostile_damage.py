"""A damaged live build: one clear line (exit 1), and a plain `coverage-search build` repairs it.

The live build is index/<name in index/CURRENT>/ with manifest.json, coverage.sqlite and
vectors.faiss. Each case copies a pristine index, damages one file, and checks:

* `search` exits 1 with one line that names the damage and says what to run, never
  "unexpected", never quoting document text;
* silent damage (a bit flip) is DETECTED, not served as wrong scores or altered text;
* `coverage-search build` without --force repairs it: search works again and returns the same
  top hit, with the same score, as before the damage.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hostile_support import (
    DOC_PHRASES,
    assert_damage_message,
    assert_ok_or_one_line_error,
    cli,
    live_build,
    make_corpus,
)

QUERY = "Why did Dario Amodei leave OpenAI?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("damage")
    corpus = make_corpus(root / "corpus")
    index = root / "pristine"
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    return {"corpus": corpus, "index": index, "top": _top(index)}


def _top(index: Path) -> tuple[str, str, float]:
    code, out, err = cli("search", QUERY, "--index", index, "-k", "3", "--json")
    assert code == 0, err
    hit = json.loads(out)["hits"][0]
    return hit["doc_id"], hit["text"], hit["score"]


def _copy(pristine: dict[str, Any], tmp_path: Path) -> Path:
    index = tmp_path / "index"
    shutil.copytree(pristine["index"], index)
    return index


def _check_repair(pristine: dict[str, Any], index: Path) -> None:
    code, out, err = cli("build", "--corpus", pristine["corpus"], "--index", index, "--quiet")
    assert code == 0, f"plain build did not repair: {err or out}"
    code, out, err = cli("search", QUERY, "--index", index, "-k", "3", "--json")
    assert code == 0, f"search still fails after a plain build: {err}"
    doc_id, text, score = pristine["top"]
    hit = json.loads(out)["hits"][0]
    assert (hit["doc_id"], hit["text"]) == (doc_id, text)
    assert hit["score"] == pytest.approx(score, abs=1e-4), "scores differ after the repair"


# -- vectors.faiss ------------------------------------------------------------------------------


def _flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def _faiss_other_dim(path: Path, *, id_map: bool) -> None:
    import faiss

    vectors = np.random.default_rng(0).random((6, 8), dtype=np.float32)
    if id_map:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(8))
        index.add_with_ids(vectors, np.arange(1, 7, dtype=np.int64))
    else:
        index = faiss.IndexFlatIP(8)
        index.add(vectors)
    faiss.write_index(index, str(path))


def _faiss_one_vector(path: Path) -> None:
    """A valid faiss file of the right dimension that holds one random vector."""
    import faiss

    vector = np.random.default_rng(1).random((1, 384), dtype=np.float32)
    vector /= np.linalg.norm(vector)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(384))
    index.add_with_ids(vector, np.array([1], dtype=np.int64))
    faiss.write_index(index, str(path))


def _replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


FAISS_DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "zeroed": lambda p: p.write_bytes(bytes(p.stat().st_size)),
    "garbage": lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
    "missing": lambda p: p.unlink(),
    "bit-flipped-in-the-middle": _flip_middle,
    "8-dim-IndexFlatIP": lambda p: _faiss_other_dim(p, id_map=False),
    "8-dim-IndexIDMap2": lambda p: _faiss_other_dim(p, id_map=True),
    "right-dim-wrong-vectors": _faiss_one_vector,
    "a-folder": _replace_with_folder,
}


@pytest.mark.parametrize("damage", list(FAISS_DAMAGE))
def test_damaged_vectors_are_reported_and_plain_build_repairs(
    pristine: dict[str, Any], tmp_path: Path, damage: str
) -> None:
    """Damaged vectors.faiss: one line naming it + what to run; plain build brings it back."""
    index = _copy(pristine, tmp_path)
    FAISS_DAMAGE[damage](live_build(index) / "vectors.faiss")
    code, _out, err = cli("search", QUERY, "--index", index, "-k", "3")
    assert_damage_message(code, err)
    _check_repair(pristine, index)


# -- coverage.sqlite ----------------------------------------------------------------------------


def _flip_text(path: Path) -> None:
    """Flip one bit inside a document's stored text (a text page, not a b-tree header)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"Simmer the tomatoes")
    data[at + 3] ^= 0x01  # "Simmer" -> "Simler"
    path.write_bytes(bytes(data))


SQLITE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "zeroed": lambda p: p.write_bytes(bytes(p.stat().st_size)),
    "garbage": lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
    "bit-flipped-in-a-text-page": _flip_text,
    "empty-file": lambda p: p.write_bytes(b""),
    "missing": lambda p: p.unlink(),
}


@pytest.mark.parametrize("damage", list(SQLITE_DAMAGE))
def test_damaged_database_is_reported_and_plain_build_repairs(
    pristine: dict[str, Any], tmp_path: Path, damage: str
) -> None:
    """Damaged coverage.sqlite: one sentence + advice, exit 1, no document text; build repairs."""
    index = _copy(pristine, tmp_path)
    SQLITE_DAMAGE[damage](live_build(index) / "coverage.sqlite")
    for argv in (("search", "tomato sauce with garlic", "-k", "3"), ("stats",)):
        code, _out, err = cli(*argv, "--index", index)
        text = assert_damage_message(code, err)
        quoted = [p for p in DOC_PHRASES if p.lower() in text.lower()]
        assert not quoted, f"the error quotes document text: {text!r}"
    _check_repair(pristine, index)


# -- manifest.json with wrong types ----------------------------------------------------------

MANIFEST_DAMAGE: dict[str, Any] = {
    "dimension": "abc",
    "backend": 5,
    "model": None,
    "counts": [],
    "vector_index": 7,
    "format_version": "2",
    "corpus_fingerprint": {"a": 1},
    "built_at": None,
}


@pytest.mark.parametrize("key", list(MANIFEST_DAMAGE))
def test_manifest_with_wrong_types_is_clear_and_plain_build_repairs(
    pristine: dict[str, Any], tmp_path: Path, key: str
) -> None:
    """A manifest field of the wrong type: search/stats give a clear line (or work); build repairs.

    A failure must say the index is damaged and what to run, never "unexpected".
    """
    index = _copy(pristine, tmp_path)
    manifest = live_build(index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data[key] = MANIFEST_DAMAGE[key]
    manifest.write_text(json.dumps(data), encoding="utf-8")
    for argv in (("search", QUERY, "-k", "3"), ("stats",), ("stats", "--json")):
        code, out, err = cli(*argv, "--index", index)
        if code == 0:
            assert "unexpected" not in err.lower()
        else:
            assert_damage_message(code, err)
    _check_repair(pristine, index)
    code, out, err = cli("stats", "--index", index, "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert isinstance(stats["dimension"], int) and isinstance(stats["model"], str)
    assert_ok_or_one_line_error(*cli("stats", "--index", index)[::2])


# -- damage under an index already open ----------------------------------------------------------


def test_a_database_damaged_under_an_open_index_is_one_sentence(
    pristine: dict[str, Any], tmp_path: Path
) -> None:
    """A search process opened the index, then its database was emptied: the damage sentence,
    not sqlite3's DatabaseError; put back, the same index opened again answers."""
    from coverage_search import CoverageIndex, IndexCorruptError

    index = _copy(pristine, tmp_path)
    database = live_build(index) / "coverage.sqlite"
    kept = database.read_bytes()
    ix = CoverageIndex.open(index)
    try:
        assert ix.search(QUERY, k=3)
        database.write_bytes(b"")
        with pytest.raises(IndexCorruptError) as caught:
            ix.stats()
        assert_damage_message(1, str(caught.value) + "\n")
        assert "coverage.sqlite cannot be read" in str(caught.value)
    finally:
        ix.close()
    database.write_bytes(kept)
    again = CoverageIndex.open(index)
    try:
        assert again.search(QUERY, k=3)[0].doc_id == pristine["top"][0]
    finally:
        again.close()


def test_the_app_opens_the_index_again_after_damage_under_it(
    pristine: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's cached index is dropped on damage, so the next run opens the index afresh,
    where the cached connection failed the same way until a restart. (SQLite serves a small
    database from its page cache, so the open connection is pointed at an emptied file.)"""
    import html
    import sqlite3

    from hostile_support import REPO
    from streamlit.testing.v1 import AppTest

    from coverage_search import CoverageIndex

    opened: list[CoverageIndex] = []
    real_open = CoverageIndex.open.__func__  # type: ignore[attr-defined]

    def recording_open(cls: type[CoverageIndex], *args: Any, **kwargs: Any) -> CoverageIndex:
        opened.append(real_open(cls, *args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(CoverageIndex, "open", classmethod(recording_open))
    index = _copy(pristine, tmp_path)
    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", str(pristine["corpus"]))
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", str(index))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.text_input(key="question").input(QUERY)
    at.form_submit_button(key="ask").click()
    at.run()
    assert not at.exception and not at.error and len(opened) == 1
    empty = tmp_path / "emptied.sqlite"
    empty.write_bytes(b"not a database " * 100)
    opened[0].engine._store._conn = sqlite3.connect(empty, check_same_thread=False)  # type: ignore[attr-defined]
    at.run()
    assert not at.exception
    shown = [html.unescape(e.value) for e in at.error]
    assert any("is damaged" in e and "Run: coverage-search build" in e for e in shown), shown
    at.run()
    assert not at.exception and not at.error and len(opened) == 2
