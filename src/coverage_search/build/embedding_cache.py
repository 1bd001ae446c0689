"""The embedding cache: float16 passage vectors keyed by (model, text hash), beside the builds."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from coverage_search.engine.local.sql import batched, damaged, remove_database

# 16 KiB pages hold 21 rows of a 768-byte vector up to 2M rows (4 KiB pages hold 5: 819 bytes a
# vector); with the key table, 799 bytes a vector at 100k (bench/results/cache.md).
PAGE_SIZE = 16384
OLD_TABLES = ("embeddings",)  # float32 rows of the first format: the file is started afresh


def as_cached(vectors: np.ndarray) -> np.ndarray:
    """Vectors as the cache returns them (float16, widened back to float32, not re-normalized).

    Fresh vectors go through this too, so a passage's vector is the same whether it was embedded
    now or read from the cache, and a rebuild from the cache gives the same index.
    """
    return np.asarray(vectors, dtype=np.float32).astype(np.float16).astype(np.float32)


def vector_key(model: str, text_hash: str) -> int:
    """The row key of a (model, text hash): 64 bits of their SHA-256 (1M vectors clash at 3e-8)."""
    digest = hashlib.sha256(f"{model}\0{text_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class EmbeddingCache:
    """Vectors keyed by (model id, embedded-text hash); beside the builds, it outlives them.

    Vector rows are appended in id order, so their pages fill up (780 bytes a vector on disk);
    a small key table maps the 64-bit key of (model, hash) to the row (19 bytes a vector). Keyed
    by the hash, the vector rows would arrive in random order and leave pages a third empty.
    A damaged file, or one of the old float32 format, is set aside and started afresh (its
    vectors are only ever a shortcut).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn = self._reset()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
            if tables & set(OLD_TABLES):
                conn.close()
                remove_database(self.path)
                conn = sqlite3.connect(self.path, timeout=30)
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # only takes on a new file
            conn.execute("PRAGMA journal_mode=WAL")  # each batch commits; a killed build keeps them
            # Reading 14k vectors by key took half the time through the mapped file.
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, vector BLOB NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vector_keys"
                " (key INTEGER PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID"
            )
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _reset(self) -> sqlite3.Connection:
        remove_database(self.path)
        return self._open()

    def close(self) -> None:
        self._conn.close()

    def get(self, model: str, hashes: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Cached vectors (float32, see `as_cached`) for the hashes that have one."""
        found: dict[str, np.ndarray] = {}
        hash_of = {vector_key(model, h): h for h in dict.fromkeys(hashes)}
        keys = list(hash_of)
        try:
            for chunk in batched(keys):
                rows = self._conn.execute(
                    "SELECT k.key, v.vector FROM vector_keys k JOIN vectors v ON v.id = k.id"
                    f" WHERE k.key IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                for key, blob in rows:
                    if len(blob) == 2 * dim:
                        found[hash_of[key]] = np.frombuffer(blob, dtype=np.float16).astype(
                            np.float32
                        )
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()
            return {}
        return found

    def put(
        self, model: str, items: Iterator[tuple[str, np.ndarray]] | Sequence[tuple[str, np.ndarray]]
    ) -> None:
        """Store vectors (as float16) in one transaction; a known key gets the new vector."""
        blobs = {vector_key(model, h): np.asarray(v, dtype=np.float16).tobytes() for h, v in items}
        try:
            with self._conn:
                known = self._ids(list(blobs))
                self._conn.executemany(
                    "UPDATE vectors SET vector = ? WHERE id = ?",
                    [(blobs[key], row) for key, row in known.items()],
                )
                new = [key for key in blobs if key not in known]
                (last,) = self._conn.execute("SELECT coalesce(max(id), 0) FROM vectors").fetchone()
                rows = range(last + 1, last + 1 + len(new))
                self._conn.executemany(
                    "INSERT INTO vectors(id, vector) VALUES (?, ?)",
                    [(row, blobs[key]) for key, row in zip(new, rows, strict=True)],
                )
                self._conn.executemany(
                    "INSERT INTO vector_keys(key, id) VALUES (?, ?)", zip(new, rows, strict=True)
                )
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()

    def _ids(self, keys: Sequence[int]) -> dict[int, int]:
        """The vector row of each key already stored."""
        found: dict[int, int] = {}
        for chunk in batched(keys):
            found.update(
                self._conn.execute(
                    f"SELECT key, id FROM vector_keys WHERE key IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
            )
        return found
