"""Reading on every core gives the items of reading in one process: same, in the same order."""

from __future__ import annotations

import concurrent.futures
import shutil
from pathlib import Path

import pytest

from conftest import SEED_ARTICLE, SMALL_CORPUS, stored_documents, write_doc
from coverage_search.build import cache as buildcache
from coverage_search.records import Document, Skipped
from coverage_search.sources import parallel
from coverage_search.sources.scan import scan_corpus
from pdfutil import write_minimal_pdf


def mixed_corpus(folder: Path) -> Path:
    """Every format, in sub-folders, with files that cannot be read among them."""
    for name, (body, meta) in SMALL_CORPUS.items():
        write_doc(folder / "news", name, body, **meta)
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    (folder / "notes.txt").write_text("A short note\n\nAnthropic raised money.\n", encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><head><title>Page</title></head><body><article><h1>Page</h1>"
        + "<p>OpenAI and Anthropic compete on safety research and on models. </p>" * 20
        + "</article></body></html>",
        encoding="utf-8",
    )
    write_minimal_pdf(folder / "report.pdf", ["First page about Claude.", "Second page."])
    (folder / "report.pdf.yml").write_text("outlet: Reports\n", encoding="utf-8")
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\xff\xfe" * 50)
    (folder / "slides.docx").write_bytes(b"PK")
    for i in range(40):  # enough files for several batches per worker
        write_doc(folder / "many", f"doc{i:03d}.md", f"## Part\n\nStory number {i}. " * 5)
    return folder


@pytest.fixture()
def spread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any number of files, in small batches and windows (several of each)."""
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    original = parallel.Pool.map_in_order

    def small(self, fn, items, wanted, *, count, batch=64, window=512, size=None):  # type: ignore[no-untyped-def]
        return original(self, fn, items, wanted, count=count, batch=3, window=10, size=size)

    monkeypatch.setattr(parallel.Pool, "map_in_order", small)


def test_workers_give_the_same_items_in_the_same_order(tmp_path: Path, spread: None) -> None:
    corpus = mixed_corpus(tmp_path / "corpus")
    serial = list(scan_corpus(corpus, workers=1))
    assert {type(i) for i in serial} == {Document, Skipped}
    seen: list[Document | Skipped] = []
    before = parallel.task_cpu_seconds()
    with parallel.Pool(2) as pool:
        assert list(scan_corpus(corpus, pool=pool, on_item=seen.append)) == serial
        assert pool._pool is not None  # the files were parsed in workers
    assert seen == serial
    assert parallel.task_cpu_seconds() > before


def test_workers_fill_and_read_the_build_cache_alike(tmp_path: Path, spread: None) -> None:
    corpus = mixed_corpus(tmp_path / "corpus")
    serial = list(scan_corpus(corpus, workers=1))
    cache = buildcache.BuildCache(tmp_path / "index" / buildcache.FILE)
    assert list(scan_corpus(corpus, workers=2, cache=cache)) == serial  # parsed in workers
    cache.close()
    live = stored_documents(serial, tmp_path / "index" / "build-1")  # the texts, as a build
    cache = buildcache.BuildCache(tmp_path / "index" / buildcache.FILE, live=live)
    with parallel.Pool(2) as pool:
        assert list(scan_corpus(corpus, pool=pool, cache=cache)) == serial  # all from the cache
        assert pool._pool is None  # nothing left to parse
    cache.close()


def test_a_few_files_or_one_core_need_no_workers(tmp_path: Path) -> None:
    corpus = mixed_corpus(tmp_path / "corpus")
    with parallel.Pool(2) as pool:
        assert not pool.parallel(parallel.MIN_ITEMS - 1) and pool.parallel(parallel.MIN_ITEMS)
        list(scan_corpus(corpus, pool=pool))
        assert pool._pool is None  # never started for 50 files
    assert not parallel.Pool(1).parallel(10**6)


def test_a_rebuild_with_a_few_changed_files_starts_no_workers(tmp_path: Path, spread: None) -> None:
    corpus = mixed_corpus(tmp_path / "corpus")
    cache = buildcache.BuildCache(tmp_path / "index" / buildcache.FILE)
    read = list(scan_corpus(corpus, workers=1, cache=cache))
    cache.close()
    live = stored_documents(read, tmp_path / "index" / "build-1")
    cache = buildcache.BuildCache(tmp_path / "index" / buildcache.FILE, live=live)
    (corpus / "notes.txt").write_text("A short note\n\nAnthropic raised more.\n", encoding="utf-8")
    with parallel.Pool(2) as pool:
        again = list(scan_corpus(corpus, pool=pool, cache=cache))
        assert pool._pool is None  # one file to parse: parsed here
    cache.close()
    assert again == list(scan_corpus(corpus, workers=1))


def test_a_window_closes_at_its_byte_budget(
    tmp_path: Path, spread: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A budget smaller than one file: every file is a window of its own, same items, same order.
    monkeypatch.setattr(parallel, "WINDOW_BYTES", 1)
    corpus = mixed_corpus(tmp_path / "corpus")
    serial = list(scan_corpus(corpus, workers=1))
    with parallel.Pool(2) as pool:
        assert list(scan_corpus(corpus, pool=pool)) == serial


def test_a_pool_that_cannot_start_a_worker_runs_here(
    tmp_path: Path, spread: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*_: object, **__: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # a pids limit reached

    monkeypatch.setattr(
        concurrent.futures.ProcessPoolExecutor, "_spawn_process", no_process, raising=False
    )
    corpus = mixed_corpus(tmp_path / "corpus")
    serial = list(scan_corpus(corpus, workers=1))
    with parallel.Pool(2) as pool:
        assert list(scan_corpus(corpus, pool=pool)) == serial
        assert pool._broken and pool._pool is None
