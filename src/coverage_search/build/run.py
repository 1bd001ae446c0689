"""Build orchestration: corpus → passages → vectors → a new build folder, switched live."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search import __version__
from coverage_search.arguments import of_type, true_or_false
from coverage_search.build import cache as buildcache
from coverage_search.build import layout
from coverage_search.build.embedding_cache import EmbeddingCache, as_cached, sweep_cache
from coverage_search.embed.embedder import (
    BACKENDS,
    Embedder,
    get_embedder,
    resolve_model,
    text_hash,
)
from coverage_search.engine.base import CONTENT_VERSION, BuildContent, DocumentSource
from coverage_search.engine.factory import (
    DEFAULT_ENGINE,
    ENGINES,
    check_engine,
    engine_writer,
    open_documents,
    open_engine,
)
from coverage_search.errors import CorpusError
from coverage_search.passages.chunking import ChunkSettings
from coverage_search.passages.dedup import DEDUP_VERSION, group_stories
from coverage_search.records import BuildReport, Document, Notice, Passage, Skipped
from coverage_search.sources.parallel import Pool
from coverage_search.sources.scan import scan_corpus

ProgressFn = Callable[[str, int, int], None]
EMBED_BATCH = 64  # passages per cache commit: a killed build loses at most one batch of work


def _fingerprint(docs: Sequence[Document], settings: dict[str, Any]) -> str:
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for doc in docs:
        h.update(f"\0{doc.doc_id}\0{doc.content_hash}".encode())
    return h.hexdigest()


class _Progress:
    """A tqdm bar on stderr and/or a callback (the app's progress bar), one stage at a time."""

    def __init__(self, enabled: bool, callback: ProgressFn | None) -> None:
        self.enabled = enabled and sys.stderr is not None
        self.callback = callback
        self._bar: Any = None

    def start(self, stage: str, total: int) -> None:
        self.close()
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                desc=stage,
                unit=" passages" if stage == "Embedding" else "",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        self._stage, self._total, self._done = stage, total, 0
        if self.callback:
            self.callback(stage, 0, total)

    def notice(self, text: str) -> None:
        """One line on stderr (and to the callback, as a stage with no total)."""
        if self.enabled:
            print(text, file=sys.stderr, flush=True)
        if self.callback:
            self.callback(text, 0, 0)

    def advance(self, n: int) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(n)
        if self.callback:
            self.callback(self._stage, self._done, self._total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _embed(
    passages: Sequence[Passage], embedder: Embedder, cache: EmbeddingCache, progress: _Progress
) -> tuple[np.ndarray, int, list[str]]:
    """Vectors for every passage (from the cache where possible), how many were embedded now,
    and the hashes of the embedded texts (what the cache keys them by)."""
    hashes = [text_hash(p.embed_text or p.text) for p in passages]
    dim = embedder.dimension
    known = cache.get(embedder.vectors_key, hashes, dim) if passages else {}
    missing = list(dict.fromkeys(h for h in hashes if h not in known))
    text_of = {h: (p.embed_text or p.text) for h, p in zip(hashes, passages, strict=True)}
    if missing:  # the first load may export the model to ONNX (~15 s): say so, not stall
        progress.start("Loading the model", 1)
        _ = embedder.model
        progress.advance(1)
    progress.start("Embedding", len(missing))
    for i in range(0, len(missing), EMBED_BATCH):
        batch = missing[i : i + EMBED_BATCH]
        vectors = as_cached(embedder.encode([text_of[h] for h in batch]))  # == a later cache hit
        cache.put(embedder.vectors_key, list(zip(batch, vectors, strict=True)))
        known.update(zip(batch, vectors, strict=True))
        progress.advance(len(batch))
    progress.close()
    matrix = np.zeros((len(passages), dim), dtype=np.float32)
    for row, h in enumerate(hashes):
        matrix[row] = known[h]
    return matrix, len(missing), hashes


def _separate(corpus_dir: Path, index_dir: Path) -> None:
    """Refuse an index folder that is the corpus folder, holds it, or sits visibly inside it.

    The same folder for both replaced the live index with an index of its own files, and a
    corpus inside the index would be swept as build leftovers. Inside the corpus, a hidden
    folder (corpus/.index) is fine: the scan skips hidden folders.
    """
    try:
        str(index_dir).encode("utf-8")  # the keyword engine takes only UTF-8 paths
    except UnicodeEncodeError:
        raise CorpusError(
            f"The index folder's name ({index_dir}) is not UTF-8 text: give --index another."
        ) from None
    corpus, index = corpus_dir.absolute().resolve(), index_dir.absolute().resolve()
    hidden = index.is_relative_to(corpus) and any(
        part.startswith(".") for part in index.relative_to(corpus).parts
    )
    if corpus == index or index in corpus.parents or (corpus in index.parents and not hidden):
        raise CorpusError(
            f"The index folder ({index_dir}) and the corpus folder ({corpus_dir}) must be "
            "apart: give --index a folder outside the corpus, or a hidden one in it (.index)."
        )


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    model: str | None = None,
    backend: str | None = None,
    chunking: ChunkSettings | None = None,
    stemming: bool = True,
    progress: bool = True,
    on_progress: ProgressFn | None = None,
    force: bool = False,
    engine: str | None = None,
    engine_uri: str | None = None,
    wait_for_lock: float = 0.0,
    allow_empty: bool = False,
) -> BuildReport:
    """Build `index_dir` from `corpus_dir`, embedding only passages not in the cache.

    `engine` stores the build ("local", or "milvus" at `engine_uri`); by default the engine the
    live build uses, else the local one. While another build runs, fail at once, or wait up to
    `wait_for_lock` seconds for it (saying so on stderr). A corpus with no documents does not
    replace an index that has some (a mistyped folder), unless `force` or `allow_empty`.
    """
    true_or_false(stemming, "stemming")  # it goes into the manifest, which must stay readable
    true_or_false(force, "force")  # force="no" emptied an index the empty-corpus guard keeps
    of_type(backend, "backend", str, "a name (onnx-int8, onnx, torch)")
    _separate(corpus_dir, index_dir)
    began = time.perf_counter()
    chunking = of_type(chunking, "chunking", ChunkSettings, "ChunkSettings") or ChunkSettings()
    bar = _Progress(progress, on_progress)
    model, backend, engine, engine_uri = _remembered(index_dir, model, backend, engine, engine_uri)
    embedder = get_embedder(model, backend=backend)

    def waiting() -> None:
        bar.notice(
            f"Waiting for another build of {index_dir} to finish (up to {wait_for_lock:g} s)…"
        )

    with layout.build_lock(index_dir, wait=wait_for_lock, on_wait=waiting):
        layout.cleanup(index_dir)  # leftovers of a killed build go first
        # What unchanged files gave; their text is taken back from the live build.
        reuse = buildcache.BuildCache(index_dir / buildcache.FILE, live=_live_documents(index_dir))
        pool = Pool()  # reading, sketches and chunking on every core; started on first use
        try:
            items = list(scan_corpus(corpus_dir, cache=reuse, pool=pool))
            reuse.release_live()  # not held open while the new build is written and switched
            docs = [d for d in items if isinstance(d, Document)]
            skipped = tuple(s for s in items if isinstance(s, Skipped))
            notices = tuple(Notice(d.doc_id, note) for d in docs for note in d.notes)
            settings = {
                "format_version": layout.FORMAT_VERSION,
                "model": embedder.model_id,
                "backend": embedder.backend,
                "chunking": chunking.to_dict(),
                "stemming": stemming,
                "dedup": DEDUP_VERSION,
                "content": CONTENT_VERSION,
                "engine": engine,
                "engine_uri": engine_uri,
            }
            fingerprint = _fingerprint(docs, settings)
            previous = _previous(index_dir)
            recorded = previous[0].get("corpus_path") if previous else None
            emptied = isinstance(recorded, str) and layout.same_corpus(
                Path(_resolved(corpus_dir)), recorded
            )  # the corpus it was built from, emptied by hand: a build follows it
            if not docs and previous and previous[1] and not (force or allow_empty or emptied):
                raise CorpusError(
                    f"{corpus_dir} holds no documents, so this build would empty the index at "
                    f"{index_dir} ({_documents(len(previous[1]))}): check --corpus, or build "
                    "with --force to empty it."
                )
            old_ids = {d for d, _, _ in previous[1]} if previous else set()
            removed = len(old_ids - {d.doc_id for d in docs})
            if previous and not force and previous[0].get("corpus_fingerprint") == fingerprint:
                reuse.close(sweep=False)
                passages = int(previous[0]["counts"]["passages"])
                return BuildReport(
                    documents=len(docs),
                    passages=passages,
                    embedded=0,
                    reused=passages,
                    removed=0,
                    skipped=skipped,
                    seconds=time.perf_counter() - began,
                    index_dir=str(index_dir),
                    changed=False,
                    notices=notices,
                )

            sketches = reuse.sketches(docs, pool=pool)
            stories = group_stories(docs, sketches=sketches)
            # An exact copy of an earlier document is stored, never indexed twice: its passages are
            # those of the first copy (`indexed_as`), so filters on the copy still find them.
            first_copy: dict[str, int] = {}
            indexed_as = [first_copy.setdefault(s.normalized, i) for i, s in enumerate(sketches)]
            indexed = [twin == i for i, twin in enumerate(indexed_as)]
            bar.start("Chunking", len(docs))
            to_chunk = [d for d, keep in zip(docs, indexed, strict=True) if keep]
            flat = reuse.passages(to_chunk, embedder, chunking, pool=pool)
            pool.close()  # its workers' memory is not the embedding's
            bar.advance(len(docs))
            bar.close()
            by_doc: dict[str, list[Passage]] = {}
            for p in flat:
                by_doc.setdefault(p.doc_id, []).append(p)
            grouped = [
                by_doc.get(d.doc_id, []) if keep else []
                for d, keep in zip(docs, indexed, strict=True)
            ]
            ordered = [p for group in grouped for p in group]

            # The writer first: a bad --engine-uri or a missing extra fails before the embedding.
            build_dir = layout.new_build_dir(index_dir)
            try:
                writer = engine_writer(engine, build_dir, uri=engine_uri)
            except BaseException:
                shutil.rmtree(build_dir, ignore_errors=True)
                raise
            try:
                cache = EmbeddingCache(index_dir / layout.CACHE)
                try:
                    vectors, embedded, hashes = _embed(ordered, embedder, cache, bar)
                finally:
                    cache.close()
                manifest = {
                    **settings,
                    "dimension": embedder.dimension,
                    "corpus_fingerprint": fingerprint,
                    "corpus_dir": str(corpus_dir),
                    "corpus_path": _resolved(corpus_dir),
                    "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "package_version": __version__,
                    "counts": {
                        "documents": len(docs),
                        "passages": len(ordered),
                        "indexed_documents": sum(indexed),
                    },
                }
                content = BuildContent(
                    documents=docs,
                    passages=grouped,
                    vectors=vectors,
                    story_ids=stories,
                    indexed_as=indexed_as,
                    stemming=stemming,
                    fingerprint=fingerprint,
                )
                manifest.update(writer.write(content))
                (build_dir / layout.MANIFEST).write_text(
                    json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
                )
                layout.publish(index_dir, build_dir)
            except BaseException:
                writer.discard()
                shutil.rmtree(build_dir, ignore_errors=True)  # the previous build stays live
                raise
            layout.cleanup(index_dir)
            writer.publish(layout.kept_builds(index_dir))
            # Only once the new build is live: a build that fails keeps every vector.
            before = int(previous[0].get("counts", {}).get("passages", 0)) if previous else 0
            sweep_cache(
                index_dir / layout.CACHE, embedder.vectors_key, hashes, keep_at_least=before
            )
            reuse.close()
        except BaseException:
            reuse.close(sweep=False)  # a build that stopped early judges no entry unused
            raise
        finally:
            pool.close()
    return BuildReport(
        documents=len(docs),
        passages=len(ordered),
        embedded=embedded,
        reused=len(ordered) - embedded,
        removed=removed,
        skipped=skipped,
        seconds=time.perf_counter() - began,
        index_dir=str(index_dir),
        notices=notices,
    )


def _remembered(
    index_dir: Path,
    model: str | None,
    backend: str | None,
    engine: str | None,
    engine_uri: str | None,
) -> tuple[str | None, str | None, str, str | None]:
    """Model, backend and engine as given, else as the live build chose them.

    So `add`, `update` and `remove` keep `--model` and `--engine` of the build they refresh.
    """
    try:
        _, manifest = layout.require_live(index_dir)
    except Exception:  # no or unreadable live build: the defaults
        engine = check_engine(engine or DEFAULT_ENGINE)
        return model, backend, engine, engine_uri if engine == "milvus" else None
    # A value no version writes (a damaged or edited manifest) is not kept: the build repairs.
    built_engine = manifest.get("engine") if manifest.get("engine") in ENGINES else None
    engine = engine or built_engine or DEFAULT_ENGINE
    if engine_uri is None and engine == built_engine:  # `--engine milvus` again keeps its server
        uri = manifest.get("engine_uri")
        engine_uri = uri if isinstance(uri, str) else None
    built_model = manifest.get("model")
    if model is None and isinstance(built_model, str):
        model = built_model
    same_model = model is not None and resolve_model(model)[0] == built_model
    if backend is None and same_model:
        # Indexes from before backends were recorded were embedded with torch: keep it, so an
        # `add` does not silently re-embed the whole corpus (`build --backend` switches).
        built_backend = manifest.get("backend") or "torch"
        backend = built_backend if built_backend in BACKENDS else None
    engine = check_engine(engine)
    return model, backend, engine, engine_uri if engine == "milvus" else None


def _documents(n: int) -> str:
    return f"{n:,} document" + ("" if n == 1 else "s")


def _resolved(folder: Path) -> str:
    try:
        return str(Path(folder).resolve())
    except (OSError, RuntimeError):
        return str(Path(folder).absolute())


def _previous(index_dir: Path) -> tuple[dict[str, Any], list[tuple[str, str, str]]] | None:
    """The live build's manifest and documents, or None when there is no readable live build."""
    try:
        build, manifest = layout.require_live(index_dir)
        engine = open_engine(build, manifest)
        try:
            return manifest, engine.documents()
        finally:
            engine.close()
    except Exception:  # an unreadable old build is simply replaced
        return None


def _live_documents(index_dir: Path) -> DocumentSource | None:
    """The live build's documents, or None when there is no readable live build."""
    try:
        return open_documents(*layout.require_live(index_dir))
    except Exception:  # the cache then reads every document from its file
        return None
