"""Abbreviations a corpus defines: stored by every engine's build and spelled out in a query's
vector, so "the RSP" finds a passage that only says "responsible scaling policy"."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import write_doc
from coverage_search import ENGINES, CoverageIndex, SearchSettings
from coverage_search.engine.local.store import Store

QUERY = "What must a model pass under the RSP?"


@pytest.fixture(scope="module", params=ENGINES)
def folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp(f"abbreviations-{request.param}")
    corpus = root / "corpus"
    write_doc(
        corpus,
        "rsp.md",
        "Anthropic published a new version of its Responsible Scaling Policy (RSP) on Tuesday. "
        "The RSP ties each model release to safety evaluations.\n\nCritics say the rules are "
        "voluntary.",
        title="Anthropic updates its safety rules",
    )
    write_doc(
        corpus,
        "policy.md",
        "Under the responsible scaling policy, a model that crosses a capability threshold must "
        "pass dangerous-capability evaluations before it ships.",
        title="What the scaling policy demands",
    )
    write_doc(
        corpus,
        "chips.md",
        "The Commerce Department tightened rules on chip exports (CDX) to China on Monday.",
        title="Chip exports",
    )
    CoverageIndex.build(corpus, root / "index", progress=False, engine=str(request.param))
    yield root / "index"


def test_the_build_stores_what_its_documents_define(folder: Path) -> None:
    index = CoverageIndex.open(folder)
    try:
        got = index.engine.abbreviations(["RSP", "CDX", "NOPE", "'; DROP TABLE abbreviations; --"])
        assert got == {"RSP": "Responsible Scaling Policy"}  # "chip exports" cannot spell CDX
        assert index.engine.abbreviations([]) == {}
    finally:
        index.close()


def test_the_spelled_out_query_brings_the_long_form_closer(folder: Path) -> None:
    scores = {}
    for on in (False, True):
        # the question's own vector, not its rewrite's (test_questions.py): this is about RSP
        settings = SearchSettings(abbreviations=on, question_rewrite="off")
        index = CoverageIndex.open(folder, settings=settings)
        try:
            scores[on] = {h.doc_id: h.score for h in index.search(QUERY, mode="semantic", k=3)}
            plain = index.embedder.encode_query(QUERY)
            vector = index._searcher.query_vector(QUERY, index.settings)
            assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
            assert (float(vector @ plain) > 0.999) is not on  # the mean, or the query as typed
        finally:
            index.close()
    assert scores[True]["policy.md"] > scores[False]["policy.md"] + 0.1
    # Off, the vector is the query's own: the same as a semantic search of the words.
    assert list(scores[False]) == ["rsp.md", "policy.md", "chips.md"]


def test_a_build_from_before_abbreviations_spells_nothing_out(folder: Path, tmp_path: Path) -> None:
    database = next(folder.glob("build-*/*.sqlite"))
    copy = tmp_path / database.name
    shutil.copy(database, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE abbreviations")
    store = Store(copy)
    try:
        assert store.abbreviations(["RSP"]) == {}
    finally:
        store.close()


def test_settings_refuse_anything_but_a_switch() -> None:
    from coverage_search.errors import QueryError

    for bad in (1, "yes", None):
        with pytest.raises(QueryError, match="abbreviations must be True or False"):
            SearchSettings(abbreviations=bad)  # type: ignore[arg-type]


def test_a_search_of_the_words_as_typed_spells_nothing_out(folder: Path) -> None:
    index = CoverageIndex.open(folder)
    try:
        typed = index.search(QUERY, mode="semantic", k=3, aliases=False)
        spelled = index.search(QUERY, mode="semantic", k=3)
    finally:
        index.close()
    # the words as typed: nothing spelled out, and the question not rewritten (test_questions)
    off = CoverageIndex.open(
        folder, settings=SearchSettings(abbreviations=False, question_rewrite="off")
    )
    try:
        plain = off.search(QUERY, mode="semantic", k=3)
    finally:
        off.close()
    assert [(h.doc_id, h.score) for h in typed] == [(h.doc_id, h.score) for h in plain]
    assert [(h.doc_id, h.score) for h in spelled] != [(h.doc_id, h.score) for h in plain]


def test_searched_as_says_what_was_spelled_out(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from coverage_search.cli import main

    spelled = "What must a model pass under the RSP (Responsible Scaling Policy)?"
    index = CoverageIndex.open(folder)
    try:
        assert index.searched_as(QUERY) == spelled
        assert index.searched_as(QUERY, aliases=False) == ""
        assert index.searched_as("What did Anthropic publish?") == ""
        assert index.answer(QUERY).searched_as == spelled
        assert index.answer(QUERY, aliases=False).searched_as == ""
    finally:
        index.close()
    off = CoverageIndex.open(folder, settings=SearchSettings(abbreviations=False))
    try:
        assert off.searched_as(QUERY) == ""
    finally:
        off.close()
    assert main(["search", QUERY, "--index", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["searched_as"] == spelled
    assert main(["ask", QUERY, "--index", str(folder)]) == 0
    assert capsys.readouterr().out.startswith(f"Searched as: {spelled}\n")
    assert main(["search", QUERY, "--index", str(folder), "--literal", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["searched_as"] == ""
