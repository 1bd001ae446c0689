"""How the build cache lays out its values: documents, dedup sketches and passages as bytes.

A document's entry holds no text: the live build holds it already (coverage.sqlite or the
Milvus side database). The entry keeps a hash of the whole document and the fields no engine
stores (headings); the document is taken back from the live build and used only when it
hashes the same, so a build that never went live, or a live build since replaced, is a miss.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from coverage_search.passages import dedup
from coverage_search.records import Document, Passage, RelatedLink

_SIGNATURE_BYTES = dedup.NUM_PERM * 4  # MinHash values are 32-bit (kept in uint64 arrays)
_ZLIB_LEVEL = 1  # entries are stored compressed: a third of the bytes, ~20 µs each
_DOCUMENT_FIELDS = tuple(f.name for f in fields(Document))
_LINK_FIELDS = tuple(f.name for f in fields(RelatedLink))


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """What the cache keeps of a document read before: its hash and its headings."""

    digest: str  # document_digest of the whole document
    headings: tuple[tuple[int, int, str], ...]
    notes: tuple[str, ...] = ()

    def restore(self, stored: Document | None) -> Document | None:
        """The document as read before, from the live build's copy; None if that differs."""
        if stored is None:
            return None
        doc = replace(stored, headings=self.headings, notes=self.notes)
        return doc if document_digest(doc) == self.digest else None


def _document_dict(doc: Document) -> dict[str, Any]:
    """`dataclasses.asdict(doc)` without its deep copies (a fifth of the time, same JSON)."""
    data = {name: getattr(doc, name) for name in _DOCUMENT_FIELDS}
    data["related"] = [{n: getattr(r, n) for n in _LINK_FIELDS} for r in doc.related]
    if not doc.notes:  # digests of documents with nothing to note stay those of before notes
        del data["notes"]
    return data


def document_digest(doc: Document) -> str:
    """SHA-256 of every field of the document (as JSON), text included."""
    raw = json.dumps(_document_dict(doc), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


def document_to_bytes(doc: Document | str) -> bytes:
    """The entry of a document, or of the reason (a str) its file cannot be read."""
    if isinstance(doc, str):
        data: dict[str, Any] = {"error": doc}
    else:
        data = {"sha256": document_digest(doc), "headings": doc.headings}
        if doc.notes:
            data["notes"] = doc.notes
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return zlib.compress(raw, _ZLIB_LEVEL)


def document_from_bytes(raw: bytes) -> DocumentEntry | str | None:
    """A document's entry, the reason (a str) its file could not be read, or None if unsound."""
    try:
        data = json.loads(zlib.decompress(raw).decode("utf-8", "surrogatepass"))
        if "error" in data:
            return str(data["error"])
        headings = tuple((int(o), int(n), str(t)) for o, n, t in data["headings"])
        notes = tuple(str(n) for n in data.get("notes", ()))
        return DocumentEntry(str(data["sha256"]), headings, notes)
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


def sketch_to_bytes(sketch: dedup.Sketch) -> bytes:
    """Normalized hash, whether a signature follows, the signature, the packed shingles."""
    signature = b"" if sketch.signature is None else sketch.signature.astype("<u4").tobytes()
    return (
        bytes.fromhex(sketch.normalized)
        + (b"\1" if signature else b"\0")
        + signature
        + _pack_sorted(sketch.shingles)
    )


def sketch_from_bytes(raw: bytes) -> dedup.Sketch | None:
    if len(raw) < 33 or raw[32] not in (0, 1):
        return None
    head = 33 + (_SIGNATURE_BYTES if raw[32] else 0)
    shingles = _unpack_sorted(raw[head:])
    if len(raw) < head or shingles is None:
        return None
    signature = np.frombuffer(raw[33:head], dtype="<u4").astype(np.uint64) if raw[32] else None
    return dedup.Sketch(raw[:32].hex(), shingles, signature)


def _pack_sorted(values: np.ndarray) -> bytes:
    """Sorted distinct uint32 values in ~25.6 bits each for a news article's ~450 shingles.

    Elias-Fano with 24 low bits: the count (uint32), each value's low 3 bytes, then its top
    byte in unary (bit `top + i` set for the i-th value, n + 256 bits). Byte-aligned low parts
    decode in a few numpy operations (~10 µs an article).
    """
    n = len(values)
    v = values.astype(np.uint32)
    low = np.stack([(v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF], axis=1).astype(np.uint8)
    top = np.zeros(n + 256, dtype=np.uint8)
    top[(v >> 24).astype(np.int64) + np.arange(n)] = 1
    return n.to_bytes(4, "little") + low.tobytes() + np.packbits(top).tobytes()


def _unpack_sorted(raw: bytes) -> np.ndarray | None:
    """What `_pack_sorted` packed, or None for bytes it cannot have made."""
    n = int.from_bytes(raw[:4], "little")
    if len(raw) < 4 or len(raw) != 4 + 3 * n + (n + 256 + 7) // 8:
        return None
    data = np.frombuffer(raw, dtype=np.uint8, offset=4)
    ones = np.flatnonzero(np.unpackbits(data[3 * n :]))
    if len(ones) != n:  # before the subtraction: the shapes would not match
        return None
    top = ones - np.arange(n)
    if n and (top[-1] > 255 or (np.diff(top) < 0).any()):
        return None
    word = np.empty((n, 4), dtype=np.uint8)  # each value's four bytes, big-endian
    word[:, 0] = top
    word[:, 1:] = data[: 3 * n].reshape(n, 3)
    values: np.ndarray = word.view(">u4").reshape(n).astype(np.uint32)
    if not (values[1:] > values[:-1]).all():
        return None  # not sorted and distinct
    return values


def passages_to_bytes(passages: Sequence[Passage]) -> bytes | None:
    rows = []
    for p in passages:
        if not p.embed_text.endswith(p.text):
            return None  # not the shape this cache stores: cut again next time
        prefix = p.embed_text[: len(p.embed_text) - len(p.text)]
        rows.append([p.ordinal, p.start, p.end, p.heading, p.page, prefix])
    raw = json.dumps(rows, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return zlib.compress(raw, _ZLIB_LEVEL)


def passages_from_bytes(raw: bytes, doc: Document) -> list[Passage] | None:
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
