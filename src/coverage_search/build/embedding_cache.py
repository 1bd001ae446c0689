"""The embedding cache: passage vectors keyed by (model, text hash), beside the builds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from coverage_search.engine.local.sql import batched, damaged, remove_database


class EmbeddingCache:
    """Vectors keyed by (model id, embedded-text hash); beside the builds, it outlives them.

    A damaged file is set aside and started afresh (its vectors are only ever a shortcut).
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
            conn.execute("PRAGMA journal_mode=WAL")  # each batch commits; a killed build keeps them
            # Reading 14k vectors by key took half the time through the mapped file.
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, hash TEXT NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID"
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
        """Cached vectors for the hashes that have one."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        try:
            for chunk in batched(unique):
                rows = self._conn.execute(
                    "SELECT hash, vector FROM embeddings WHERE model = ?"
                    f" AND hash IN ({', '.join('?' * len(chunk))})",
                    [model, *chunk],
                )
                for h, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape[0] == dim:
                        found[h] = vec
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
        """Store vectors in one transaction."""
        rows = [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items]
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO embeddings(model, hash, vector) VALUES (?, ?, ?)", rows
                )
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()
