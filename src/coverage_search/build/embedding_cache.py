"""The embedding cache: 8-bit passage vectors keyed by (model, text hash), beside the builds."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from coverage_search.engine.local.sql import batched, damaged, remove_database
from coverage_search.errors import IndexCorruptError

# A vector is a float32 scale and one signed byte a dimension (its largest component is ±127):
# 388 bytes for MiniLM where float16 took 768; the cosine of two rounded unit vectors is off by
# at most 0.0033 (bench/bench_cache.py). Hybrid nDCG@10 went 0.7388 → 0.7391 on SciFact and
# 0.8237 → 0.8231 on TIME against float16 rows (bench/eval_cache_codes.py). With the key table,
# 419 bytes a vector at 100k (bench/results/cache.md; float16 rows took 799).
PAGE_SIZE = 16384
OLD_TABLES = ("embeddings",)  # float32 rows of the first format: the file is started afresh
# Vectors the live build does not use (edited passages, removed documents, other models' or
# chunk settings') are kept up to twice as many as it uses, or as the build before it used if
# that was more, plus SWEEP_SLACK; past that the oldest go. Switching to another model or
# setting and back re-embeds nothing, one build of a wrong, small folder drops nothing, and
# edits to a growing corpus no longer grow the cache without end. Freed pages are reused.
SWEEP_SLACK = 1000
_SCALE = np.dtype("<f4")


def as_cached(vectors: np.ndarray) -> np.ndarray:
    """Vectors as the cache returns them (8-bit with a scale, widened to float32, not
    re-normalized).

    Fresh vectors go through this too, so a passage's vector is the same whether it was embedded
    now or read from the cache, and a rebuild from the cache gives the same index. It is
    idempotent: a cached vector encodes to the same bytes again.
    """
    scales, codes = _encode(np.asarray(vectors, dtype=np.float32))
    return _decode(scales, codes)


def _encode(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-vector scales (float32) and int8 codes of float32 vectors (one or a matrix)."""
    rows = np.atleast_2d(vectors)
    scales = (np.abs(rows).max(axis=1) / np.float32(127)).astype(np.float32)
    scales[scales == 0] = 1.0  # a zero vector stays zero
    codes = np.rint(rows / scales[:, None]).clip(-127, 127).astype(np.int8)
    return scales.reshape(vectors.shape[:-1]), codes.reshape(vectors.shape)


def _decode(scales: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return codes.astype(np.float32) * np.asarray(scales, dtype=np.float32)[..., None]


def to_blobs(vectors: Sequence[np.ndarray]) -> list[bytes]:
    """Each vector's row: its scale, then its codes."""
    if not len(vectors):
        return []
    scales, codes = _encode(np.stack([np.asarray(v, dtype=np.float32) for v in vectors]))
    return [s.tobytes() + c.tobytes() for s, c in zip(scales.astype(_SCALE), codes, strict=True)]


def _from_blobs(blobs: Sequence[bytes], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the 8-bit format (each `dim` + 4 bytes long) decoded at once, as `from_blob`,
    and which of them are sound (`_sound`)."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=bool)
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), dim + _SCALE.itemsize)
    scales = np.ascontiguousarray(raw[:, : _SCALE.itemsize]).view(_SCALE).ravel()
    with np.errstate(all="ignore"):  # a damaged scale decodes to junk, left out by `sound`
        vectors = _decode(scales, raw[:, _SCALE.itemsize :].view(np.int8))
    return vectors, _sound(scales)


def _sound(scales: np.ndarray) -> np.ndarray:
    """Which scales a unit vector can have (its largest component / 127, or 1 for zero): a
    damaged one (NaN, huge) would make a vector that tops every search."""
    sound: np.ndarray = np.isfinite(scales) & (scales > 0) & (scales <= 1)
    return sound


def from_blob(blob: bytes, dim: int) -> np.ndarray | None:
    """A row back as float32 (None when it is not a `dim`-vector). float16 rows, the format
    before, are read too, and come back as a fresh vector of theirs would (`as_cached`)."""
    if len(blob) == dim + _SCALE.itemsize:
        scale = np.frombuffer(blob[: _SCALE.itemsize], dtype=_SCALE)
        if not _sound(scale).all():
            return None
        return _decode(scale[0], np.frombuffer(blob, dtype=np.int8, offset=_SCALE.itemsize))
    if len(blob) == 2 * dim:  # (the same length as the new rows only at 4 dimensions)
        return as_cached(np.frombuffer(blob, dtype=np.float16).astype(np.float32))
    return None


def vector_key(model: str, text_hash: str) -> int:
    """The row key of a (model, text hash): 64 bits of their SHA-256 (1M vectors clash at 3e-8)."""
    digest = hashlib.sha256(f"{model}\0{text_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class EmbeddingCache:
    """Vectors keyed by (model id, embedded-text hash); beside the builds, it outlives them.

    Vector rows are appended in id order, so their pages fill up (16 KiB pages hold 41);
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
            if isinstance(exc, sqlite3.OperationalError) and not damaged(exc):
                raise self._unwritable(exc) from None
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
                coded: list[tuple[int, bytes]] = []
                for key, blob in rows:
                    if len(blob) == dim + _SCALE.itemsize:
                        coded.append((key, blob))
                    elif (vector := from_blob(blob, dim)) is not None:  # a float16 row
                        found[hash_of[key]] = vector
                # Decoded together: one row at a time took 25 s of a 1M build.
                vectors, sound = _from_blobs([b for _, b in coded], dim)
                for (key, _), vector, ok in zip(coded, vectors, sound, strict=True):
                    if ok:  # a damaged scale is a miss: the passage is embedded again
                        found[hash_of[key]] = vector
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
        """Store vectors (8-bit, `to_blobs`) in one transaction; a known key gets the new vector."""
        pairs = list(items)
        encoded = to_blobs([v for _, v in pairs])
        blobs = {vector_key(model, h): b for (h, _), b in zip(pairs, encoded, strict=True)}
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
            if isinstance(exc, sqlite3.OperationalError) and not damaged(exc):
                raise self._unwritable(exc) from None
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()

    def _unwritable(self, exc: BaseException) -> IndexCorruptError:
        """A read-only file, a full disk: a build must write the cache, so it says why it cannot."""
        if "full" in str(exc):
            return IndexCorruptError(
                f"{self.path} cannot be written: the disk is full. Free some space."
            )
        fix = (
            "make it writable" if "readonly" in str(exc) or "open" in str(exc) else "check the disk"
        )
        return IndexCorruptError(
            f"{self.path} cannot be written ({exc}): {fix}, or delete it (it only saves "
            "embedding time)."
        )

    def sweep(self, model: str, hashes: Sequence[str], *, keep_at_least: int = 0) -> int:
        """Drop the oldest vectors other than those of `hashes` under `model` (the live build's
        passages) beyond 2 × max(their count, `keep_at_least`) + SWEEP_SLACK; how many went."""
        used = set(hashes)
        if not used:  # an empty corpus (or a wrong folder) never sweeps
            return 0
        allowed = 2 * max(len(used), keep_at_least) + SWEEP_SLACK
        try:
            (count,) = self._conn.execute("SELECT count(*) FROM vector_keys").fetchone()
            if count <= len(used) + allowed:
                return 0  # (the keys are hashed only for a sweep: 1M take a second)
            with self._conn:
                self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key INTEGER PRIMARY KEY)")
                self._conn.execute("DELETE FROM keep")
                self._conn.executemany(
                    "INSERT OR IGNORE INTO keep VALUES (?)", ((vector_key(model, h),) for h in used)
                )
                (present,) = self._conn.execute(
                    "SELECT count(*) FROM vector_keys WHERE key IN (SELECT key FROM keep)"
                ).fetchone()
                excess = count - present - allowed
                dropped = 0
                if excess > 0:  # ids grow with each insert: the lowest are the oldest
                    dropped = self._conn.execute(
                        "DELETE FROM vector_keys WHERE key IN (SELECT key FROM vector_keys"
                        " WHERE key NOT IN (SELECT key FROM keep) ORDER BY id LIMIT ?)",
                        (excess,),
                    ).rowcount
                    self._conn.execute(
                        "DELETE FROM vectors WHERE id NOT IN (SELECT id FROM vector_keys)"
                    )
                self._conn.execute("DELETE FROM keep")
            return int(dropped)
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()
            return 0

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


def sweep_cache(path: Path, model: str, hashes: Sequence[str], *, keep_at_least: int = 0) -> int:
    """`EmbeddingCache.sweep` after a build's switch. It never raises: the build is live
    already, and a busy or read-only cache is swept by the next build (how many went)."""
    try:
        cache = EmbeddingCache(path)
    except sqlite3.Error:
        return 0
    try:
        return cache.sweep(model, hashes, keep_at_least=keep_at_least)
    except sqlite3.Error:
        return 0
    finally:
        cache.close()
