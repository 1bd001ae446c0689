"""What a rebuild need not redo: parsed documents, dedup sketches and passages, keyed by content.

They live in index/buildcache.sqlite beside the builds (like the embedding cache) and outlive
them. Each key hashes everything its value was made from: the input, the settings, the
tokenizer, and the code (this package's source, Python's and the parsing libraries' versions),
so an entry is exactly what the slow path would compute, or it is never found. Values carry a
checksum. A damaged file is set aside and started afresh: the cache is only ever a shortcut.
A document's entry holds no text: the live build gives it back, used only if the whole document
hashes as it did when read (cache_values.py); anything else is a miss and the file is read.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from coverage_search import __version__
from coverage_search.build import cache_values as values
from coverage_search.build import workers
from coverage_search.build.cache_values import DocumentEntry
from coverage_search.embed.embedder import Embedder
from coverage_search.engine.base import DocumentSource
from coverage_search.engine.local.sql import batched, damaged, remove_database
from coverage_search.errors import SourceError
from coverage_search.passages import chunking, dedup
from coverage_search.passages.chunking import ChunkSettings, TokenCounter
from coverage_search.records import Document, Passage
from coverage_search.sources.parallel import Pool

FILE = "buildcache.sqlite"
KINDS = ("documents", "sketches", "passages")
# Libraries whose output ends up in a cached value (their versions are part of every key).
_LIBRARIES = (
    "trafilatura",
    "htmldate",
    "justext",
    "lxml",
    "pypdf",
    "markdown-it-py",
    "PyYAML",
    "charset-normalizer",
    "numpy",
    "tokenizers",
)
_FLUSH_ITEMS = 256  # entries per commit: a killed build keeps all but its last batch
_PRUNE_SLACK = 1000  # unused entries tolerated beyond the in-use count before a sweep


@functools.cache
def code_version() -> str:
    """A hash of the code that makes cached values; any change to it retires every entry."""
    h = hashlib.sha256(f"{__version__}\0{platform.python_version()}".encode())
    try:
        # Every module of the package: the readers, chunking and dedup live in other stages,
        # and an edit to any of them must retire what they made.
        package = Path(__file__).resolve().parents[1]
        for source in sorted(package.rglob("*.py")):
            rel = source.relative_to(package).as_posix()
            h.update(rel.encode() + b"\0" + source.read_bytes())
    except OSError:
        h.update(os.urandom(16))  # code that cannot be read is never trusted to match
    for dist in _LIBRARIES:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        h.update(f"\0{dist}={version}".encode())
    return h.hexdigest()


def _key(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8", "surrogatepass")
        h.update(len(raw).to_bytes(8, "little") + raw)
    return h.hexdigest()


_TOKENIZERS: dict[int, tuple[Any, str]] = {}


def tokenizer_id(embedder: TokenCounter) -> str | None:
    """What identifies the tokenizer chunking counts with, or None when it cannot be told."""
    tok: Any = getattr(embedder, "tokenizer", None)
    if not callable(getattr(tok, "to_str", None)):
        return None
    memo = _TOKENIZERS.get(id(tok))
    if memo is None or memo[0] is not tok:
        memo = tok, hashlib.sha256(str(tok.to_str()).encode()).hexdigest()
        _TOKENIZERS[id(tok)] = memo
    return f"{memo[1]}:{embedder.max_seq_length}:{embedder.special_tokens}"


class BuildCache:
    """One index folder's build cache; used by one build at a time (the build lock)."""

    def __init__(self, path: Path, *, live: DocumentSource | None = None) -> None:
        """`live`: the live build's documents; the cache closes it. Without one no document
        entry is of use (they hold no text), but what reading could not read still is.
        """
        self.path = path
        self._live = live
        self._conn: sqlite3.Connection | None = None
        self._broken = False
        self._pending: dict[str, list[tuple[str, bytes]]] = {k: [] for k in KINDS}
        self._used: dict[str, set[str]] = {}  # kinds consulted by this build → keys it needs

    # -- storage ---------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection | None:
        if self._conn is None and not self._broken:
            try:
                self._conn = _connect(self.path)
            except (sqlite3.Error, OSError) as exc:
                self._failed(exc)
        return self._conn

    def _failed(self, exc: Exception) -> None:
        """Start afresh from a damaged file; go without the cache after any other failure."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._broken = True  # busy, full or unwritable: this build does without
        if damaged(exc):
            try:
                remove_database(self.path)
                self._conn = _connect(self.path)
                self._broken = False
            except (sqlite3.Error, OSError):
                pass

    def get(self, kind: str, keys: Iterable[str]) -> dict[str, bytes]:
        """Stored values of the keys that have a sound one."""
        wanted = list(dict.fromkeys(keys))
        self._used.setdefault(kind, set()).update(wanted)
        found: dict[str, bytes] = {}
        conn = self._db()
        if conn is None:
            return found
        try:
            for chunk in batched(wanted):
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT key, crc, value FROM {kind} WHERE key IN ({marks})"
                for key, crc, value in conn.execute(sql, chunk):
                    if isinstance(value, bytes) and zlib.crc32(value) == crc:
                        found[key] = value
        except sqlite3.Error as exc:
            self._failed(exc)
            return {}
        return found

    def put(self, kind: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Queue entries; they are written in batches of _FLUSH_ITEMS and by `flush`."""
        pending = self._pending[kind]
        for key, value in items:
            self._used.setdefault(kind, set()).add(key)
            pending.append((key, value))
        if len(pending) >= _FLUSH_ITEMS:
            self.flush()

    def flush(self) -> None:
        """Write queued entries, one transaction per kind."""
        conn = self._db()
        for kind, pending in self._pending.items():
            if conn is not None and pending:
                try:
                    with conn:
                        conn.executemany(
                            f"INSERT OR REPLACE INTO {kind}(key, crc, value) VALUES (?, ?, ?)",
                            [(k, zlib.crc32(v), v) for k, v in pending],
                        )
                except sqlite3.Error as exc:
                    self._failed(exc)
                    conn = self._conn
            pending.clear()

    def close(self, *, sweep: bool = True) -> None:
        """Write what is queued, sweep entries this build did not need if they pile up, close.

        `sweep=False` for a build that stopped early (nothing changed, or it failed): it did
        not touch every entry it would need, so nothing may be judged unused.
        """
        self.flush()
        conn = self._db() if sweep else None
        if conn is not None:
            try:
                for kind, used in self._used.items():
                    (count,) = conn.execute(f"SELECT count(*) FROM {kind}").fetchone()
                    if count > 2 * len(used) + _PRUNE_SLACK:
                        with conn:
                            conn.execute(
                                "CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)"
                            )
                            conn.execute("DELETE FROM keep")
                            conn.executemany("INSERT INTO keep VALUES (?)", ((k,) for k in used))
                            conn.execute(
                                f"DELETE FROM {kind} WHERE key NOT IN (SELECT key FROM keep)"
                            )
            except sqlite3.Error as exc:
                self._failed(exc)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._live is not None:
            self._live.close()
            self._live = None
        self._used.clear()

    # -- documents -------------------------------------------------------------------------

    def documents(
        self, wanted: Sequence[tuple[str, Sequence[str]]]
    ) -> list[Document | SourceError | None]:
        """For each (doc_id, how): the document read earlier the same way, else None; or the
        SourceError reading raised then. One query here and one to the live build for them all.

        `how` is everything reading depended on besides the code: format, bytes' hash, ...
        """
        keys = [_key(code_version(), "document", doc_id, *how) for doc_id, how in wanted]
        stored = self.get("documents", keys)
        entries = [values.document_from_bytes(stored[k]) if k in stored else None for k in keys]
        live = self._live_documents(
            [d for (d, _), e in zip(wanted, entries, strict=True) if isinstance(e, DocumentEntry)]
        )
        out: list[Document | SourceError | None] = []
        for (doc_id, _), entry in zip(wanted, entries, strict=True):
            if isinstance(entry, str):
                out.append(SourceError(doc_id, entry))
            else:
                out.append(entry.restore(live.get(doc_id)) if entry is not None else None)
        return out

    def release_live(self) -> None:
        """Close the live build's documents once reading is done (no later lookup needs them)."""
        if self._live is not None:
            self._live.close()
            self._live = None

    def _live_documents(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """The live build's copies of these documents (each still checked against its hash)."""
        if self._live is None or not doc_ids:
            return {}
        try:
            return self._live.documents_by_id(doc_ids)
        except Exception:  # an unreadable live build: every document is read from its file
            self._live.close()
            self._live = None
            return {}

    def keep_document(self, doc_id: str, how: Sequence[str], doc: Document | SourceError) -> None:
        """Remember what reading gave: the document, or why it could not be read."""
        key = _key(code_version(), "document", doc_id, *how)
        self.put(
            "documents",
            [(key, values.document_to_bytes(doc.reason if isinstance(doc, SourceError) else doc))],
        )

    # -- dedup sketches --------------------------------------------------------------------

    def sketches(self, docs: Sequence[Document], *, pool: Pool | None = None) -> list[dedup.Sketch]:
        """`dedup.sketch_texts` of every document, computed only for texts not seen before."""
        keys = [_key(code_version(), "sketch", d.text) for d in docs]
        found: dict[str, dedup.Sketch] = {}
        for key, value in self.get("sketches", keys).items():
            sketch = values.sketch_from_bytes(value)
            if sketch is not None:
                found[key] = sketch
        todo = {k: d.text for k, d in zip(keys, docs, strict=True) if k not in found}
        made = workers.sketch_texts(list(todo.values()), pool=pool)  # on every core
        found.update(zip(todo, made, strict=True))
        self.put(
            "sketches", ((k, values.sketch_to_bytes(s)) for k, s in zip(todo, made, strict=True))
        )
        self.flush()
        return [found[k] for k in keys]

    # -- passages --------------------------------------------------------------------------

    def passages(
        self,
        docs: Sequence[Document],
        embedder: TokenCounter,
        settings: ChunkSettings,
        *,
        pool: Pool | None = None,
    ) -> list[Passage]:
        """`chunking.chunk_documents`, cutting only documents not cut before with these settings."""
        tokenizer = tokenizer_id(embedder)
        if tokenizer is None:
            return chunking.chunk_documents(docs, embedder, settings)
        cut = json.dumps(settings.to_dict(), sort_keys=True)
        keys = [
            _key(
                code_version(),
                "passages",
                tokenizer,
                cut,
                d.title,
                json.dumps([d.headings, d.page_starts], ensure_ascii=False),
                d.text,
            )
            for d in docs
        ]
        stored = self.get("passages", keys)
        per_doc: list[list[Passage] | None] = [
            values.passages_from_bytes(stored[k], d) if k in stored else None
            for k, d in zip(keys, docs, strict=True)
        ]
        todo = [i for i, found in enumerate(per_doc) if found is None]
        if todo:
            # Cut on every core when the tokenizer is the embedder's own (then it can be copied).
            copy = workers.tokenizer_copy(embedder) if isinstance(embedder, Embedder) else None
            fresh = workers.chunk_documents(
                [docs[i] for i in todo], embedder, settings, copy=copy, pool=pool
            )
            for i, made in zip(todo, fresh, strict=True):
                per_doc[i] = made
                raw = values.passages_to_bytes(made)
                if raw is not None:
                    self.put("passages", [(keys[i], raw)])
            self.flush()
        return [p for found in per_doc for p in found or ()]


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA synchronous=NORMAL")  # a lost last batch is only recomputed
        # Entries are 1-3 KB: in 4 KB pages most hold one and waste the rest (174 MB at 100k
        # passages against 110 MB in 16 KB pages). Applies to a new file only.
        conn.execute("PRAGMA page_size=16384")
        for kind in KINDS:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {kind}"
                " (key TEXT PRIMARY KEY, crc INTEGER NOT NULL, value BLOB NOT NULL)"
            )
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn
