"""One contract for every engine: the same answers under the same queries and filters.

Each test runs once per engine on the same small corpus; passage ids may differ between
engines, so results are compared as (doc_id, start) of each hit.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_CORPUS, write_doc
from coverage_search import ENGINES, MODES, CoverageIndex, CoverageSearchError, IndexCorruptError
from coverage_search.build import layout
from coverage_search.cli import main
from coverage_search.engine.base import EngineWriter
from coverage_search.engine.local.engine import LocalWriter
from coverage_search.engine.milvus import MilvusWriter
from coverage_search.errors import QueryError
from coverage_search.records import Document, SearchFilters
from coverage_search.sources import scan

HOSTILE_OUTLET = 'Quote "Daily" \\ News'
# Beyond SMALL_CORPUS: an exact copy of the tokens story from another outlet, date and
# language; an undated, outlet-less note; a story whose outlet is full of quote characters;
# and a zoo story that mentions OpenAI once, far down any OpenAI ranking.
EXTRA = {
    "wire-copy.md": (
        SMALL_CORPUS["anthropic-tokens.md"][0],
        {
            "title": "Anthropic warns on tokenized shares",
            "url": "https://wire.example/tokens",
            "outlet": "Wire Desk",
            "published": "2026-07-01",
            "language": "de",
        },
    ),
    "undated.md": (
        "# Notes on GPU supply\n\nNvidia shipped more accelerators to cloud providers, and "
        "OpenAI signed a compute deal worth billions.",
        {"title": "Notes on GPU supply"},
    ),
    "quoted.md": (
        "# Chip export rules\n\nNew export rules limit which accelerators can be sold abroad; "
        "chip makers lobbied against them.",
        {"title": "Chip export rules", "outlet": HOSTILE_OUTLET, "published": "2026-03-02"},
    ),
    "giraffe.md": (
        "# A giraffe escapes the zoo\n\nKeepers caught the giraffe near the parking lot. A "
        "visitor filmed it on a phone and said it was better than any OpenAI demo.",
        {"title": "A giraffe escapes the zoo", "outlet": "Zoo News", "published": "2026-04-11"},
    ),
}
CORPUS = {**SMALL_CORPUS, **EXTRA}
WRITERS: dict[str, type[EngineWriter]] = {"local": LocalWriter, "milvus": MilvusWriter}

QUERIES: list[tuple[str, dict[str, object]]] = [
    ("Why did Dario Amodei leave OpenAI?", {}),
    ("tokenized pre-IPO shares void", {}),
    ("tomato sauce with garlic", {}),
    ("chip export accelerators", {}),
    ("Anthropic", {"since": "2026-06-01"}),
    ("Anthropic safety", {"language": "es"}),
    ("OpenAI", {"outlets": ["Axios", "Zoo News"]}),
    ("shares", {"outlets": ["Wire Desk"]}),
    ("compute deal Nvidia", {"until": "2026-12-31"}),
]


def write_corpus(folder: Path) -> Path:
    for name, (body, meta) in CORPUS.items():
        write_doc(folder, name, body, **meta)
    return folder


def build(corpus: Path, index: Path, engine: str) -> Path:
    CoverageIndex.build(corpus, index, progress=False, engine=engine)
    return index


def ranked(index: CoverageIndex, query: str, mode: str, **filters: object) -> list[tuple[str, int]]:
    return [(h.doc_id, h.start) for h in index.search(query, mode=mode, k=5, **filters)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[dict[str, CoverageIndex]]:
    """Both engines' indexes of CORPUS, opened once for the module (read-only tests only)."""
    root = tmp_path_factory.mktemp("contract")
    corpus = write_corpus(root / "corpus")
    opened = {e: CoverageIndex.open(build(corpus, root / f"index-{e}", e)) for e in ENGINES}
    yield opened
    for index in opened.values():
        index.close()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def index(built: dict[str, CoverageIndex], engine: str) -> CoverageIndex:
    return built[engine]


@pytest.fixture()
def fresh(tmp_path: Path, engine: str, embedder) -> Iterator[Callable[[], CoverageIndex]]:
    """A corpus and index of this test's own (to change), opened through `open_index()`."""
    corpus = write_corpus(tmp_path / "corpus")
    opened: list[CoverageIndex] = []

    def open_index() -> CoverageIndex:
        opened.append(CoverageIndex.open(tmp_path / "index"))
        return opened[-1]

    build(corpus, tmp_path / "index", engine)
    yield open_index
    for idx in opened:
        idx.close()


# -- the same answers -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_milvus_ranks_like_local(built: dict[str, CoverageIndex], mode: str) -> None:
    for query, filters in QUERIES:
        local = ranked(built["local"], query, mode, **filters)
        assert ranked(built["milvus"], query, mode, **filters) == local, (query, filters)


def test_milvus_counts_timelines_and_facets_like_local(built: dict[str, CoverageIndex]) -> None:
    for query, filters in QUERIES:
        local = built["local"].coverage(query, **filters).to_dict()  # type: ignore[arg-type]
        milvus = built["milvus"].coverage(query, **filters).to_dict()  # type: ignore[arg-type]
        assert milvus == local, (query, filters)
    assert any(built["local"].coverage(q, **f).total for q, f in QUERIES)  # type: ignore[arg-type]


def test_same_facts_and_term_counts(built: dict[str, CoverageIndex]) -> None:
    local, milvus = (built[e].stats() for e in ("local", "milvus"))
    for field in ("documents", "passages", "outlets", "languages", "earliest", "latest"):
        assert getattr(milvus, field) == getattr(local, field), field
    assert (local.engine, milvus.engine) == ("local", "milvus")
    assert "milvus.db, collection cs_" in milvus.engine_location
    terms = ["anthropic", "tokenized", "the", "giraffes", "nowhere"]
    assert built["milvus"].engine.term_docs(terms) == built["local"].engine.term_docs(terms)


def test_owners_name_each_passages_document_and_story(index: CoverageIndex) -> None:
    hits = index.search("tokenized shares void", mode="hybrid", k=5, group_stories=False)
    ids = [h.passage_id for h in hits]
    owners = index.engine.owners([*ids, ids[0], -1])  # repeats and unknown ids are harmless
    assert sorted(owners) == sorted(set(ids))
    rows = index.engine.passages(ids)
    for pid in ids:
        assert owners[pid] == (rows[pid].doc_id, rows[pid].story_id)
    assert index.engine.owners([]) == {}


def test_mean_cosines_are_each_documents_mean_passage_cosine(index: CoverageIndex) -> None:
    vector = index.embedder.encode_query("Why did Dario Amodei leave OpenAI?")
    every = index.engine.dense(vector, SearchFilters(), limit=1000)  # all passages, exact cosine
    owners = index.engine.owners(pid for pid, _ in every)
    cosines: dict[str, list[float]] = {}
    for pid, score in every:
        cosines.setdefault(owners[pid][0], []).append(score)
    docs = [*cosines, "wire-copy.md", "nowhere.md", "'; DROP TABLE documents; --"]
    got = index.engine.mean_cosines(docs, vector)
    assert sorted(got) == sorted(cosines)  # an exact copy and unknown ids have none
    for doc, values in cosines.items():
        assert abs(got[doc] - float(np.mean(values))) < 0.03, doc  # 4-bit centroids
    assert index.engine.mean_cosines([], vector) == {}


def test_the_document_prior_adds_each_documents_mean_cosine(index: CoverageIndex) -> None:
    query = "Why did Dario Amodei leave OpenAI?"
    options = {"k": 50, "per_document": 0, "group_stories": False}
    plain = {h.passage_id: h.score for h in index.search(query, document_prior=0.0, **options)}
    hits = index.search(query, document_prior=0.5, **options)
    vector = index._searcher.query_vector(query, index.settings)  # the question's, rewrite in
    means = index.engine.mean_cosines([h.doc_id for h in hits], vector)
    assert {h.passage_id for h in hits} == set(plain)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        assert hit.score == pytest.approx(plain[hit.passage_id] + 0.5 * means[hit.doc_id], abs=1e-4)
    # Cosines, BM25 scores and reciprocal ranks are not min-max fused scores: no prior there.
    for mode, fusion in (("semantic", None), ("keyword", None), ("hybrid", "rrf")):
        scored = [
            [(h.passage_id, h.score) for h in index.search(
                query, mode=mode, fusion=fusion, document_prior=prior, **options
            )]
            for prior in (0.0, 1.0)
        ]  # fmt: skip
        assert scored[0] == scored[1], (mode, fusion)
    for bad in (-0.1, 1.5, float("nan"), True, "0.5"):
        with pytest.raises(QueryError, match="document_prior"):
            index.search(query, document_prior=bad)  # type: ignore[arg-type]


def test_a_filter_that_only_an_exact_copy_passes_keeps_its_originals_prior(
    index: CoverageIndex,
) -> None:
    query = "tokenized pre-IPO shares void"
    vector = index.embedder.encode_query(query)
    hits = index.search(query, outlets=["Wire Desk"], k=3, document_prior=0.5)
    assert hits and {h.doc_id for h in hits} == {"wire-copy.md"}
    plain = index.search(query, outlets=["Wire Desk"], k=3, document_prior=0.0)
    original = index.engine.mean_cosines(["anthropic-tokens.md"], vector)["anthropic-tokens.md"]
    assert hits[0].score == pytest.approx(plain[0].score + 0.5 * original, abs=1e-4)


def test_search_is_safe_from_many_threads(index: CoverageIndex) -> None:
    from concurrent.futures import ThreadPoolExecutor

    expected = {m: ranked(index, "tokenized shares", m) for m in MODES}
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda m: (m, ranked(index, "tokenized shares", m)), MODES * 8))
    assert all(result == expected[m] for m, result in runs)


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_filters_apply_before_the_top_k_cut(index: CoverageIndex, mode: str) -> None:
    unfiltered = [h.doc_id for h in index.search("Dario Amodei OpenAI", mode=mode, k=3)]
    assert "giraffe.md" not in unfiltered
    hits = index.search("Dario Amodei OpenAI", mode=mode, k=1, outlets=["Zoo News"])
    assert [h.doc_id for h in hits] == ["giraffe.md"]


def test_filter_values_compare_as_the_local_engine_does(index: CoverageIndex) -> None:
    def docs(**filters: object) -> set[str]:
        return {h.doc_id for h in index.search("Anthropic OpenAI", k=20, per_document=0, **filters)}

    assert docs(outlets=["  crypto   BRIEFING "]) == {"anthropic-tokens.md"}
    assert docs(language="ES") == {"elpais.md"}
    assert docs(since="2026-06-16", until="2026-06-16") == {"openai-exit.md"}  # whole day
    assert "undated.md" in docs()
    assert "undated.md" not in docs(since="1900-01-01") | docs(until="2999-12-31")
    assert docs(outlets=[HOSTILE_OUTLET], mode="semantic") == {"quoted.md"}


@pytest.mark.parametrize("mode", MODES)
def test_a_filter_on_an_exact_copy_finds_it(index: CoverageIndex, mode: str) -> None:
    query = "tokenized shares void"
    for filters in ({"outlets": ["Wire Desk"]}, {"language": "de"}, {"since": "2026-07-01"}):
        hits = index.search(query, mode=mode, k=3, **filters)
        assert {h.doc_id for h in hits} == {"wire-copy.md"}, filters
        assert hits[0].link.startswith("https://wire.example/tokens#")
    # One copy must pass every filter: the original's outlet with the copy's date is no match.
    assert index.search(query, mode=mode, outlets=["Crypto Briefing"], since="2026-07-01") == []
    top = index.search(query, mode=mode, k=1)[0]
    assert top.doc_id == "anthropic-tokens.md"
    assert [c.outlet for c in top.also_in] == ["Wire Desk"]


HOSTILE_VALUES = [
    'a" or id > 0 or "',
    "a' or id > 0 or '",
    '\\" or id > 0 or \\"',
    "\\",
    '"',
    "x\ny",
    "Zoo News\x00",
    "e\rn",
    "]) or (id > 0",
    "% or like",
]


@pytest.mark.parametrize("mode", MODES)
def test_hostile_filter_values_match_nothing_and_raise_nothing(
    index: CoverageIndex, mode: str
) -> None:
    for value in HOSTILE_VALUES:
        assert index.search("OpenAI Anthropic", mode=mode, outlets=[value]) == [], value
        assert index.search("OpenAI Anthropic", mode=mode, language=value) == [], value


# -- builds -----------------------------------------------------------------------------------


def test_incremental_builds_embed_only_what_changed(
    fresh: Callable[[], CoverageIndex], tmp_path: Path
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    again = CoverageIndex.build(corpus, index_dir, progress=False)
    assert (again.changed, again.embedded) == (False, 0)
    write_doc(
        corpus,
        "cooking.md",
        "# Slow-cooked tomato sauce\n\nRoast the peppers first.",
        title="Slow-cooked tomato sauce",
        outlet="Food Weekly",
    )
    edited = CoverageIndex.build(corpus, index_dir, progress=False)
    assert edited.embedded == 1 and edited.reused == edited.passages - 1
    (corpus / "giraffe.md").unlink()
    removed = CoverageIndex.build(corpus, index_dir, progress=False)
    assert (removed.removed, removed.embedded) == (1, 0)
    index = fresh()
    assert index.search("roast peppers", mode="keyword", k=1)[0].doc_id == "cooking.md"
    assert "giraffe.md" not in {h.doc_id for h in index.search("giraffe zoo", k=20)}


def test_a_failed_build_leaves_the_previous_one_answering(
    fresh: Callable[[], CoverageIndex],
    tmp_path: Path,
    engine: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    question = QUERIES[0][0]
    before = {m: ranked(fresh(), question, m) for m in MODES}
    writer = WRITERS[engine]
    real_write = writer.write

    def write_then_fail(self, content):  # type: ignore[no-untyped-def]
        real_write(self, content)  # everything stored, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write", write_then_fail)
    write_doc(tmp_path / "corpus", "new.md", "# Late news\n\nDario Amodei spoke again.")
    with pytest.raises(OSError, match="No space"):
        CoverageIndex.build(tmp_path / "corpus", tmp_path / "index", progress=False)
    monkeypatch.undo()
    after = fresh()
    assert {m: ranked(after, question, m) for m in MODES} == before
    assert len([p for p in (tmp_path / "index").glob("build-*")]) == 1
    if engine == "milvus":
        client = after.engine._ready()  # type: ignore[attr-defined]
        assert client.list_collections() == [after.engine.collection]  # type: ignore[attr-defined]


def test_an_unchanged_rebuild_takes_every_document_back_from_the_engine(
    fresh: Callable[[], CoverageIndex], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    read = [d for d in scan.scan_corpus(corpus) if isinstance(d, Document)]
    stored = fresh().engine.documents_by_id([*(d.doc_id for d in read), "missing.md"])
    assert len(stored) == len(read)
    # Field for field what the reader made, but the headings (the build cache keeps those).
    assert [replace(stored[d.doc_id], headings=d.headings) for d in read] == read
    assert all(fresh().engine.document(d.doc_id) == stored[d.doc_id] for d in read)
    parsed: list[str] = []
    real = scan._parse
    monkeypatch.setattr(scan, "_parse", lambda job: parsed.append(job.doc_id) or real(job))
    CoverageIndex.build(corpus, index_dir, progress=False, force=True)
    assert parsed == []  # the build cache took every text back from the live build


# -- damage -----------------------------------------------------------------------------------


def _storage(index_dir: Path, engine: str) -> Path:
    if engine == "milvus":
        return index_dir / "milvus.db"
    live = layout.live_build(index_dir)
    assert live is not None
    return live / "coverage.sqlite"


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_missing_or_damaged_storage_is_one_sentence_and_a_build_repairs_it(
    fresh: Callable[[], CoverageIndex],
    tmp_path: Path,
    engine: str,
    damage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index_dir = tmp_path / "index"
    storage = _storage(index_dir, engine)
    if damage == "missing":
        storage.unlink()
    else:
        storage.write_bytes(b"\x00garbage, not a database\xff" * 200)
    with pytest.raises(CoverageSearchError) as caught:
        fresh().search("Dario Amodei", k=1)
    assert isinstance(caught.value, IndexCorruptError)
    assert "\n" not in str(caught.value) and "Run: coverage-search build" in str(caught.value)
    code = main(["search", "Dario Amodei", "--index", str(index_dir)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("coverage-search: ") and err.count("\n") == 1, err
    CoverageIndex.build(tmp_path / "corpus", index_dir, progress=False)
    assert fresh().search("tomato sauce", k=1)[0].doc_id == "cooking.md"


def test_a_copied_index_folder_still_opens(
    fresh: Callable[[], CoverageIndex], tmp_path: Path
) -> None:
    fresh().close()  # let the Milvus Lite file go before copying it
    shutil.copytree(tmp_path / "index", tmp_path / "moved")
    moved = CoverageIndex.open(tmp_path / "moved")
    try:
        assert moved.search("tomato sauce", k=1)[0].doc_id == "cooking.md"
    finally:
        moved.close()
