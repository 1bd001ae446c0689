"""What a rebuild need not redo: parsed documents, dedup sketches and passages, keyed by content.

They live in index/buildcache.sqlite beside the builds (like the embedding cache) and outlive
them. Each key hashes everything its value was made from: the input, the settings, the
tokenizer, and the code (this package's source, Python's and the parsing libraries' versions),
so an entry is exactly what the slow path would compute, or it is never found. Values carry a
checksum. A damaged file is set aside and started afresh: the cache is only ever a shortcut.
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
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search import __version__
from coverage_search.build import workers
from coverage_search.embed.embedder import Embedder
from coverage_search.engine.local.sql import batched, damaged, remove_database
from coverage_search.errors import SourceError
from coverage_search.passages import chunking, dedup
from coverage_search.passages.chunking import ChunkSettings, TokenCounter
from coverage_search.records import Document, Passage, RelatedLink
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
_SIGNATURE_BYTES = dedup.NUM_PERM * 4  # MinHash values are 32-bit (kept in uint64 arrays)
_ZLIB_LEVEL = 1  # documents and passages are stored compressed: a third of the bytes, ~20 µs each


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

    def __init__(self, path: Path) -> None:
        self.path = path
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
        self._used.clear()

    # -- documents -------------------------------------------------------------------------

    def document(self, doc_id: str, how: Sequence[str]) -> Document | None:
        """The document read earlier the same way; raises the SourceError reading raised then.

        `how` is everything reading depended on besides the code: format, bytes' hash, ...
        """
        key = _key(code_version(), "document", doc_id, *how)
        value = self.get("documents", [key]).get(key)
        if value is None:
            return None
        try:
            data = json.loads(zlib.decompress(value).decode("utf-8", "surrogatepass"))
            if "error" in data:
                raise SourceError(doc_id, str(data["error"]))
            doc = Document(
                **{
                    **data,
                    "related": tuple(RelatedLink(**r) for r in data["related"]),
                    "page_starts": tuple(int(p) for p in data["page_starts"]),
                    "headings": tuple((int(o), int(n), str(t)) for o, n, t in data["headings"]),
                }
            )
        except (ValueError, KeyError, TypeError, zlib.error):
            return None
        return doc if doc.doc_id == doc_id else None

    def keep_document(self, doc_id: str, how: Sequence[str], doc: Document | SourceError) -> None:
        """Remember what reading gave: the document, or why it could not be read."""
        data = {"error": doc.reason} if isinstance(doc, SourceError) else _document_dict(doc)
        key = _key(code_version(), "document", doc_id, *how)
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
        self.put("documents", [(key, zlib.compress(raw, _ZLIB_LEVEL))])

    # -- dedup sketches --------------------------------------------------------------------

    def sketches(self, docs: Sequence[Document], *, pool: Pool | None = None) -> list[dedup.Sketch]:
        """`dedup.sketch_texts` of every document, computed only for texts not seen before."""
        keys = [_key(code_version(), "sketch", d.text) for d in docs]
        found: dict[str, dedup.Sketch] = {}
        for key, value in self.get("sketches", keys).items():
            sketch = _sketch_from_bytes(value)
            if sketch is not None:
                found[key] = sketch
        todo = {k: d.text for k, d in zip(keys, docs, strict=True) if k not in found}
        made = workers.sketch_texts(list(todo.values()), pool=pool)  # on every core
        found.update(zip(todo, made, strict=True))
        self.put("sketches", ((k, _sketch_to_bytes(s)) for k, s in zip(todo, made, strict=True)))
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
            _passages_from_bytes(stored[k], d) if k in stored else None
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
                raw = _passages_to_bytes(made)
                if raw is not None:
                    self.put("passages", [(keys[i], raw)])
            self.flush()
        return [p for found in per_doc for p in found or ()]


_DOCUMENT_FIELDS = tuple(f.name for f in fields(Document))
_LINK_FIELDS = tuple(f.name for f in fields(RelatedLink))


def _document_dict(doc: Document) -> dict[str, Any]:
    """`dataclasses.asdict(doc)` without its deep copies (a fifth of the time, same JSON)."""
    data = {name: getattr(doc, name) for name in _DOCUMENT_FIELDS}
    data["related"] = [{n: getattr(r, n) for n in _LINK_FIELDS} for r in doc.related]
    return data


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


def _sketch_to_bytes(sketch: dedup.Sketch) -> bytes:
    signature = b"" if sketch.signature is None else sketch.signature.astype("<u4").tobytes()
    return (
        bytes.fromhex(sketch.normalized)
        + (b"\1" if signature else b"\0")
        + signature
        + sketch.shingles.astype("<u4").tobytes()
    )


def _sketch_from_bytes(raw: bytes) -> dedup.Sketch | None:
    if len(raw) < 33 or raw[32] not in (0, 1):
        return None
    head = 33 + (_SIGNATURE_BYTES if raw[32] else 0)
    if len(raw) < head or (len(raw) - head) % 4:
        return None
    signature = np.frombuffer(raw[33:head], dtype="<u4").astype(np.uint64) if raw[32] else None
    shingles = np.frombuffer(raw[head:], dtype="<u4").astype(np.uint32)
    return dedup.Sketch(raw[:32].hex(), shingles, signature)


def _passages_to_bytes(passages: Sequence[Passage]) -> bytes | None:
    rows = []
    for p in passages:
        if not p.embed_text.endswith(p.text):
            return None  # not the shape this cache stores: cut again next time
        prefix = p.embed_text[: len(p.embed_text) - len(p.text)]
        rows.append([p.ordinal, p.start, p.end, p.heading, p.page, prefix])
    raw = json.dumps(rows, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return zlib.compress(raw, _ZLIB_LEVEL)


def _passages_from_bytes(raw: bytes, doc: Document) -> list[Passage] | None:
    try:
        out = []
        for ordinal, start, end, heading, page, prefix in json.loads(
            zlib.decompress(raw).decode("utf-8", "surrogatepass")
        ):
            if not 0 <= start <= end <= len(doc.text):
                return None
            text = doc.text[start:end]
            out.append(
                Passage(
                    doc_id=doc.doc_id,
                    ordinal=int(ordinal),
                    text=text,
                    start=int(start),
                    end=int(end),
                    heading=heading,
                    page=page,
                    embed_text=prefix + text,
                )
            )
        return out
    except (ValueError, TypeError, zlib.error):
        return None
