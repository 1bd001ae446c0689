"""The build cache (parsed documents, dedup sketches, passages) changes speed, never results."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import SEED_ARTICLE, SMALL_CORPUS, stored_documents, write_doc
from coverage_search import CoverageIndex
from coverage_search.build import cache as buildcache
from coverage_search.build import cache_values, layout
from coverage_search.engine.local.engine import DATABASE
from coverage_search.passages import chunking
from coverage_search.passages.chunking import ChunkSettings
from coverage_search.passages.dedup import (
    LSH_BANDS,
    NUM_PERM,
    _candidate_pairs,
    group_stories,
    sketch_texts,
)
from coverage_search.records import Document
from coverage_search.sources.scan import scan_corpus
from pdfutil import write_minimal_pdf

QUESTIONS = ("Why did Dario Amodei leave OpenAI?", "tokenized shares", "tomato sauce")
WIRE = (
    "Nvidia said new export rules will cut its quarterly sales to China by about a fifth. "
    "Shares fell four percent in early trading as investors weighed the hit to data center "
    "revenue. The company said it would seek licenses for some customers and expected demand "
    "elsewhere to make up part of the shortfall over the coming year. Analysts said the rules "
    "were broader than expected and covered chips designed to comply with earlier limits."
)


def _corpus(folder: Path, *, long_article: bool = True) -> Path:
    """Every reader and the dedup paths: Markdown, text, HTML, a PDF with a sidecar, copies."""
    for name, (body, meta) in SMALL_CORPUS.items():
        write_doc(folder, name, body, **meta)
    if long_article:
        shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    write_doc(folder, "wire/nvidia.md", f"# Nvidia export rules\n\n{WIRE}", outlet="Wire")
    write_doc(
        folder, "wire/nvidia-copy.md", f"# Nvidia hit by rules\n\n{WIRE} Reuters.", outlet="B"
    )
    write_doc(folder, "wire/nvidia-exact.md", f"# NVIDIA EXPORT RULES\n\n{WIRE.upper()}")  # a copy
    (folder / "notes.txt").write_text("Plain notes\n\nOpenAI shipped a model on Tuesday.\n")
    (folder / "page.html").write_text(
        "<html><head><title>Chip rules</title></head><body><article><h1>Chip rules</h1>"
        f"<p>{WIRE}</p></article></body></html>"
    )
    write_minimal_pdf(folder / "report.pdf", ["Compute report page one.", "Page two on GPUs."])
    (folder / "report.pdf.yml").write_text("title: Compute report\noutlet: Lab\n")
    (folder / "empty.md").write_text("---\ntitle: nothing here\n---\n")
    return folder


def _tables(index_dir: Path) -> tuple[list[Any], list[Any]]:
    """Every row of the live build's documents and passages tables."""
    build = layout.live_build(index_dir)
    assert build is not None
    with sqlite3.connect(build / DATABASE) as conn:
        docs = conn.execute("SELECT * FROM documents ORDER BY id").fetchall()
        passages = conn.execute("SELECT * FROM passages ORDER BY id").fetchall()
    return docs, passages


def _hits(index_dir: Path) -> list[Any]:
    index = CoverageIndex.open(index_dir)
    return [index.search(q, k=5) for q in QUESTIONS]


@pytest.fixture()
def chunked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The doc ids handed to the chunker, one list per call."""
    calls: list[list[str]] = []
    real = chunking.chunk_documents

    def counting(docs: Sequence[Document], *args: Any, **kwargs: Any) -> Any:
        calls.append([d.doc_id for d in docs])
        return real(docs, *args, **kwargs)

    monkeypatch.setattr(chunking, "chunk_documents", counting)
    return calls


def _build(corpus: Path, index: Path, **options: Any) -> None:
    CoverageIndex.build(corpus, index, progress=False, **options)


def _fresh(corpus: Path, like: Path, **options: Any) -> Path:
    """A build with no build cache, using the vectors `like` used (a batch may round apart)."""
    index = like.parent / f"{like.name}-fresh"
    index.mkdir()
    shutil.copy(like / layout.CACHE, index / layout.CACHE)
    _build(corpus, index, **options)
    assert sorted(p.name for p in index.glob("*.sqlite")) == [buildcache.FILE, layout.CACHE]
    return index


def test_a_build_from_the_cache_equals_a_fresh_build(
    tmp_path: Path, embedder: Any, chunked: list[list[str]]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    warm = tmp_path / "warm"
    _build(corpus, warm)
    assert (warm / buildcache.FILE).is_file()
    write_doc(corpus, "late.md", "# Late news\n\nAnthropic opened an office in Tokyo.", outlet="X")
    chunked.clear()
    _build(corpus, warm)  # everything but late.md comes from the cache
    assert chunked == [["late.md"]]
    fresh = _fresh(corpus, warm)
    assert _tables(warm) == _tables(fresh)
    assert _hits(warm) == _hits(fresh)
    gpus = CoverageIndex.open(warm).search("GPUs", k=10)
    assert any(h.doc_id == "report.pdf" and h.page == 2 for h in gpus)


def test_cached_stages_return_what_the_slow_path_computes(tmp_path: Path, embedder: Any) -> None:
    corpus = _corpus(tmp_path / "corpus")
    cache = buildcache.BuildCache(tmp_path / buildcache.FILE)
    first = list(scan_corpus(corpus, cache=cache))
    cache.close()
    live = stored_documents(first, tmp_path / "build-1")  # the texts, as the live build has them
    cache = buildcache.BuildCache(tmp_path / buildcache.FILE, live=live)
    again = list(scan_corpus(corpus, cache=cache))
    assert first == again == list(scan_corpus(corpus))
    assert any(getattr(s, "reason", "").startswith("no text") for s in again)  # empty.md
    docs = [d for d in again if isinstance(d, Document)]
    settings = ChunkSettings()
    fresh = chunking.chunk_documents(docs, embedder, settings)
    assert cache.passages(docs, embedder, settings) == fresh
    assert cache.passages(docs, embedder, settings) == fresh  # from the cache this time
    assert group_stories(docs, sketches=cache.sketches(docs)) == group_stories(docs)
    stories = group_stories(docs, sketches=cache.sketches(docs))
    assert stories["wire/nvidia-copy.md"] == stories["wire/nvidia-exact.md"] == stories["page.html"]
    cache.close()


def test_changing_chunk_settings_cuts_every_document_again(
    tmp_path: Path, embedder: Any, chunked: list[list[str]]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    indexed = sorted(chunked[0])
    chunked.clear()
    small = ChunkSettings(target_tokens=48, overlap_sentences=0)
    _build(corpus, index, chunking=small)
    assert [sorted(c) for c in chunked] == [indexed]
    fresh = _fresh(corpus, index, chunking=small)
    assert _tables(index) == _tables(fresh)


def test_an_edit_cuts_only_the_edited_document(
    tmp_path: Path, embedder: Any, chunked: list[list[str]]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    chunked.clear()
    _build(corpus, index, force=True)
    assert chunked == []  # nothing changed: nothing cut
    edited = corpus / "cooking.md"
    edited.write_text(edited.read_text() + "\n\nServe it with fresh pasta.\n")
    _build(corpus, index)
    assert chunked == [["cooking.md"]]
    hits = CoverageIndex.open(index).search("fresh pasta", k=1, mode="keyword")
    assert hits[0].doc_id == "cooking.md" and "fresh pasta" in hits[0].text


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a database at all" * 100),
        lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
        lambda path: path.write_bytes(path.read_bytes()[:100]),
    ],
    ids=["garbage", "truncated-half", "truncated-header"],
)
def test_a_damaged_cache_file_is_ignored_and_rebuilt(
    tmp_path: Path, embedder: Any, damage: Callable[[Path], object]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    damage(index / buildcache.FILE)
    _build(corpus, index, force=True)
    fresh = _fresh(corpus, index)
    assert _tables(index) == _tables(fresh)
    with sqlite3.connect(index / buildcache.FILE) as conn:  # started afresh, and filled again
        assert conn.execute("SELECT count(*) FROM passages").fetchone()[0] > 0


def test_a_damaged_embedding_cache_is_ignored(tmp_path: Path, embedder: Any) -> None:
    corpus = _corpus(tmp_path / "corpus", long_article=False)
    index = tmp_path / "index"
    _build(corpus, index)
    (index / layout.CACHE).write_bytes(b"\0garbage" * 512)
    report = CoverageIndex.build(corpus, index, progress=False, force=True)
    assert report.embedded == report.passages  # nothing usable was left: embedded again
    fresh = tmp_path / "fresh"
    _build(corpus, fresh)
    assert _tables(index) == _tables(fresh)
    spans = [[(h.doc_id, h.start, h.end) for h in hits] for hits in _hits(index)]
    assert spans == [[(h.doc_id, h.start, h.end) for h in hits] for hits in _hits(fresh)]


def test_an_entry_that_fails_its_checksum_is_not_used(
    tmp_path: Path, embedder: Any, chunked: list[list[str]]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    indexed = sorted(chunked[0])
    with sqlite3.connect(index / buildcache.FILE) as conn:
        for kind in buildcache.KINDS:  # flip one byte of every value, keep the old checksums
            rows = conn.execute(f"SELECT key, value FROM {kind}").fetchall()
            conn.executemany(
                f"UPDATE {kind} SET value = ? WHERE key = ?",
                [(bytes([v[0] ^ 1]) + v[1:], k) for k, v in rows],
            )
    chunked.clear()
    _build(corpus, index, force=True)
    assert [sorted(c) for c in chunked] == [indexed]
    fresh = _fresh(corpus, index)
    assert _tables(index) == _tables(fresh)


def test_a_new_code_version_retires_every_entry(
    tmp_path: Path, embedder: Any, chunked: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    monkeypatch.setattr(buildcache, "code_version", lambda: "a later release")
    chunked.clear()
    _build(corpus, index, force=True)
    assert len(chunked) == 1 and len(chunked[0]) > 5


def _datasketch_pairs(texts: Sequence[str]) -> set[tuple[int, int]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
    pairs: set[tuple[int, int]] = set()
    for i, found in enumerate(sketch_texts(texts)):
        if found.signature is None:
            continue
        signature = MinHash(num_perm=NUM_PERM, hashvalues=found.signature, scheme="affine32")
        pairs.update((j, i) for j in lsh.query(signature))
        lsh.insert(i, signature)
    return pairs


def _variants() -> Iterator[str]:
    sentences = WIRE.split(". ")
    for n in range(len(sentences)):
        yield ". ".join(sentences[n:] + sentences[:n])  # rotated: near-duplicates
        yield ". ".join(sentences[: n + 1])  # trimmed, some too short to sketch
    yield SMALL_CORPUS["openai-exit.md"][0]
    yield SMALL_CORPUS["openai-exit.md"][0] + " " + WIRE


def test_candidate_pairs_are_those_of_datasketch_lsh() -> None:
    texts = list(_variants())
    ours = set(_candidate_pairs([s.signature for s in sketch_texts(texts)]))
    assert ours == _datasketch_pairs(texts)
    assert len(ours) > 5


def test_entries_no_build_needs_are_swept_once_they_pile_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(buildcache, "_PRUNE_SLACK", 0)
    path = tmp_path / buildcache.FILE
    cache = buildcache.BuildCache(path)
    cache.put("passages", [(f"key{i}", b"[]") for i in range(10)])
    cache.close()
    cache = buildcache.BuildCache(path)
    used = [f"key{i}" for i in range(5)]
    assert cache.get("passages", used) == dict.fromkeys(used, b"[]")
    cache.close()  # 10 entries, 5 in use: all kept (not more than twice as many)
    cache = buildcache.BuildCache(path)
    assert len(cache.get("passages", [f"key{i}" for i in range(10)])) == 10
    cache.close()
    cache = buildcache.BuildCache(path)
    cache.get("passages", ["key1", "key2"])
    cache.close()  # 10 entries, 2 in use: the other 8 go
    cache = buildcache.BuildCache(path)
    assert sorted(cache.get("passages", [f"key{i}" for i in range(10)])) == ["key1", "key2"]
    cache.close()


def test_signatures_are_those_of_datasketch_minhash() -> None:
    from datasketch import MinHash

    for found in sketch_texts(_variants()):
        if found.signature is None:
            continue
        reference = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, scheme="affine32")
        reference.update_batch(found.shingles.tolist())
        assert found.signature.tolist() == reference.hashvalues.tolist()


def test_a_cached_sketch_is_the_sketch_bit_for_bit() -> None:
    for made in sketch_texts([*_variants(), "", "one", "same words " * 3000]):
        back = cache_values.sketch_from_bytes(cache_values.sketch_to_bytes(made))
        assert back is not None and back.normalized == made.normalized
        assert back.shingles.dtype == made.shingles.dtype
        assert back.shingles.tolist() == made.shingles.tolist()
        assert (back.signature is None) == (made.signature is None)
        if made.signature is not None and back.signature is not None:
            assert back.signature.dtype == made.signature.dtype
            assert back.signature.tolist() == made.signature.tolist()
    for values in ([], [0], [2**32 - 1], [0, 2**32 - 1], range(7, 2**32, 2**20)):
        packed = cache_values._pack_sorted(np.array(values, dtype=np.uint32))
        assert cache_values._unpack_sorted(packed).tolist() == list(values)  # type: ignore[union-attr]
    packed = bytearray(cache_values._pack_sorted(np.array([5, 9], dtype=np.uint32)))
    packed[4:10] = packed[7:10] + packed[4:7]  # 9 before 5: not sorted
    assert cache_values._unpack_sorted(bytes(packed)) is None
    assert cache_values._unpack_sorted(bytes(packed[:-1])) is None
    # Any byte flipped (a value with a sound checksum) decodes to None or to sorted values,
    # never raises: the build must not fail on what it cached.
    good = cache_values._pack_sorted(np.array(range(3, 2**32, 2**24), dtype=np.uint32))
    for at in range(len(good)):
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(good)
            bad[at] ^= flip
            got = cache_values._unpack_sorted(bytes(bad))
            assert got is None or bool((np.diff(got.astype(np.int64)) > 0).all())
