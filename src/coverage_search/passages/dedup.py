"""Group documents that carry the same story: exact copies and near-duplicates (syndication).

Near-duplicates are found in two steps. MinHash/LSH over 5-word shingles of the normalized
text (datasketch's affine32 MinHash and banding, computed here with numpy) proposes candidate
pairs cheaply, tuned to miss few pairs so trimmed copies are not missed; each candidate is
then checked exactly on its shingle sets. The check uses containment (shared shingles over the
smaller set) because a wire copy that was trimmed keeps its shingles inside the other copy
while its Jaccard similarity drops. Shingles found in many texts (an outlet's footer, a
newsletter blurb) weigh less, so two different short articles that carry the same boilerplate
are not taken for copies. Numbers: bench/dedup_eval.py.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coverage_search.records import Document

SHINGLE_WORDS = 5
NUM_PERM = 128
# LSH bands x rows: all 128 hash values in bands of 2, so a pair with Jaccard 0.2 is proposed
# with p = 1 - (1 - 0.2**2)**64 = 0.93 (0.15: 0.77, 0.3: 0.998); verification then decides.
LSH_BANDS = (64, 2)
MIN_CONTAINMENT = 0.5  # share of the smaller copy's shingles found in the other one
MIN_JACCARD = 0.15  # keeps a short piece quoted inside a long article from counting as a copy
MIN_SHINGLES = 20  # shorter texts are matched only when exactly equal
# Bump when grouping changes, so an index built with the old rules is rebuilt.
DEDUP_VERSION = 2  # 2: shingles hashed from per-word crc32s (vectorized), not crc32 of each run
COMMON_TEXTS = 3  # a shingle in more distinct texts than this weighs COMMON_TEXTS / (its count)
_WORD = re.compile(r"\w+")
_ASCII_SPACES = str.maketrans(  # what \w+ does not match in ASCII becomes a space
    {chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}
)


@dataclass(frozen=True, slots=True)
class Similarity:
    """How much two texts overlap, on (weighted) sets of word shingles."""

    jaccard: float
    containment: float

    @property
    def near_duplicate(self) -> bool:
        """True when one text is, in the main, a copy of the other."""
        return self.containment >= MIN_CONTAINMENT and self.jaccard >= MIN_JACCARD


def normalized_words(text: str) -> list[str]:
    """Words of the text with Unicode compatibility forms, case and punctuation folded."""
    if text.isascii():  # NFKC changes no ASCII, casefold is lower: \w+ by translate and split
        return text.lower().translate(_ASCII_SPACES).split()
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalized_hash(text: str) -> str:
    """Hash of the normalized words: equal for copies differing in case, spacing, punctuation."""
    return _words_hash(normalized_words(text))


def _words_hash(words: Sequence[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def shingles(text: str, *, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """32-bit hashes (stable across runs) of every run of `size` normalized words."""
    return frozenset(_shingles(normalized_words(text), size).tolist())


_WORD_HASHES: dict[str, int] = {}  # word -> crc32, shared by every text of a build
_WORD_HASHES_MAX = 2_000_000  # words: a large corpus's vocabulary; cleared when over
_MIX = np.uint32(0x01000193)  # FNV-1a's prime


def _word_hashes(words: Sequence[str]) -> np.ndarray:
    """crc32 of each word (uint32), each distinct word hashed once."""
    known = _WORD_HASHES
    try:  # every word seen before: the common case once a build is under way
        return np.fromiter(map(known.__getitem__, words), dtype=np.uint32, count=len(words))
    except KeyError:
        pass
    if len(known) > _WORD_HASHES_MAX:
        known.clear()
    for word in set(words).difference(known):
        known[word] = zlib.crc32(word.encode("utf-8", "surrogatepass"))
    return np.fromiter(map(known.__getitem__, words), dtype=np.uint32, count=len(words))


def _shingles(words: Sequence[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """The hash of every run of `size` words (uint32, in text order, repeats kept).

    Computed on all runs at once: FNV-1a over the words' crc32s, then MurmurHash3's finalizer,
    so a run's hash depends on its words and their order only. A text shorter than `size` is
    one shingle of all its words; an empty one has none.
    """
    if not words:
        return np.zeros(0, dtype=np.uint32)
    hashes = _word_hashes(words)
    runs = max(len(words) - size + 1, 1)
    h = np.full(runs, 0x811C9DC5, dtype=np.uint32)  # FNV-1a's offset basis
    for j in range(min(size, len(words))):
        h = (h ^ hashes[j : j + runs]) * _MIX  # uint32 arithmetic wraps, as FNV's does
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


@dataclass(frozen=True, slots=True)
class Sketch:
    """What story grouping needs to know of one text; computed once, cached by the build."""

    normalized: str  # normalized_hash of the text
    shingles: np.ndarray  # its distinct shingles, sorted (uint32)
    signature: np.ndarray | None  # MinHash (NUM_PERM uint64), None below MIN_SHINGLES shingles


def sketch_texts(texts: Iterable[str]) -> list[Sketch]:
    """The sketch of each text."""
    out: list[Sketch] = []
    for text in texts:
        words = normalized_words(text)
        found = np.unique(_shingles(words))
        signature = _minhash(found) if len(found) >= MIN_SHINGLES else None
        out.append(Sketch(_words_hash(words), found, signature))
    return out


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for seed 1: h -> a * h + b mod 2^32, `a` odd."""
    gen = np.random.RandomState(1)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _minhash(values: np.ndarray) -> np.ndarray:
    """The MinHash of a set of 32-bit values, as datasketch's MinHash(scheme="affine32", seed=1)
    computes it with an identity hash function (a test holds the two equal), without importing
    it (0.4 s with scipy)."""
    a, b = _permutations()
    low = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    for i in range(0, len(values), 8192):  # bounded memory for a very long text
        hv = values[i : i + 8192].astype(np.uint32).reshape(-1, 1)
        # MurmurHash3's 32-bit finalizer mixes the raw values first (products wrap mod 2^32).
        hv = hv ^ (hv >> np.uint32(16))
        hv = hv * np.uint32(0x85EBCA6B)
        hv = hv ^ (hv >> np.uint32(13))
        hv = hv * np.uint32(0xC2B2AE35)
        hv = hv ^ (hv >> np.uint32(16))
        low = np.minimum(low, (hv * a + b).min(axis=0))
    return low.astype(np.uint64)


def similarity(
    a: frozenset[int],
    b: frozenset[int],
    *,
    common: Mapping[int, float] | None = None,
    totals: tuple[float, float] | None = None,
) -> Similarity:
    """Jaccard and containment of two shingle sets; shingles in `common` weigh what it says.

    `common` comes from `common_shingles`; `totals` are the weights of `a` and `b` when the
    caller has them already.
    """
    if not a or not b:
        return Similarity(0.0, 0.0)
    common = common or {}
    weight_a, weight_b = totals or (set_weight(a, common), set_weight(b, common))
    shared_weight = set_weight(a & b, common)
    union = weight_a + weight_b - shared_weight
    return Similarity(shared_weight / union, shared_weight / min(weight_a, weight_b))


def common_shingles(sets: Iterable[frozenset[int]]) -> dict[int, float]:
    """Weights (below 1) of shingles found in more than COMMON_TEXTS of the given sets."""
    counts = Counter(s for shingle_set in sets for s in shingle_set)
    return {s: COMMON_TEXTS / n for s, n in counts.items() if n > COMMON_TEXTS}


def set_weight(shingle_set: frozenset[int], common: Mapping[int, float]) -> float:
    """Sum of shingle weights: 1 each, less for common shingles."""
    if not common:
        return float(len(shingle_set))
    return len(shingle_set) - sum(1.0 - common[s] for s in shingle_set & common.keys())


def is_near_duplicate(text_a: str, text_b: str) -> bool:
    """The detector's verdict on one pair of texts alone (exact copies included)."""
    if normalized_hash(text_a) == normalized_hash(text_b):
        return True
    a, b = shingles(text_a), shingles(text_b)
    if min(len(a), len(b)) < MIN_SHINGLES:
        return False
    return similarity(a, b).near_duplicate


def group_stories(
    docs: Sequence[Document], *, sketches: Sequence[Sketch] | None = None
) -> dict[str, str]:
    """Map each doc_id to its story id: the doc_id of the earliest copy, then the shortest path.

    `sketches` (one per document, from `sketch_texts`) spare computing them again.
    """
    if sketches is None:
        sketches = sketch_texts(d.text for d in docs)
    forest = _Forest(len(docs))
    first_with_text: dict[str, int] = {}
    unique: list[int] = []  # one document per distinct normalized text
    for i, text_sketch in enumerate(sketches):
        j = first_with_text.setdefault(text_sketch.normalized, i)
        if j == i:
            unique.append(i)
        else:
            forest.union(i, j)

    kept = [sketches[i] for i in unique]
    common = _common_shingles([s.shingles for s in kept])
    sets: dict[int, tuple[frozenset[int], float]] = {}

    def shingle_set(i: int) -> tuple[frozenset[int], float]:
        # Built only for candidate pairs, from the sorted shingles: the same on every path.
        if i not in sets:
            shingle_ints = frozenset(kept[i].shingles.tolist())
            sets[i] = shingle_ints, set_weight(shingle_ints, common)
        return sets[i]

    for i, j in _candidate_pairs([s.signature for s in kept]):
        a, b = unique[i], unique[j]
        if forest.find(a) == forest.find(b):
            continue
        (set_i, weight_i), (set_j, weight_j) = shingle_set(i), shingle_set(j)
        # Each shingle weighs at most 1, so too few shared shingles cannot reach the bar.
        if len(set_i & set_j) < MIN_CONTAINMENT * min(weight_i, weight_j):
            continue
        found = similarity(set_i, set_j, common=common, totals=(weight_i, weight_j))
        if found.near_duplicate:
            forest.union(a, b)

    members: dict[int, list[int]] = {}
    for i in range(len(docs)):
        members.setdefault(forest.find(i), []).append(i)
    story: dict[str, str] = {}
    for group in members.values():
        lead = min(group, key=lambda i: _representative_key(docs[i]))
        for i in group:
            story[docs[i].doc_id] = docs[lead].doc_id
    return story


def _common_shingles(arrays: Sequence[np.ndarray]) -> dict[int, float]:
    """`common_shingles` over sorted distinct shingle arrays, counted by numpy."""
    if not arrays:
        return {}
    values, counts = np.unique(np.concatenate(arrays), return_counts=True)
    many = counts > COMMON_TEXTS
    return {int(s): COMMON_TEXTS / int(n) for s, n in zip(values[many], counts[many], strict=True)}


class _Forest:
    """Union-find over document positions."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _representative_key(doc: Document) -> tuple[str, int, str, str]:
    return (doc.published or "9999", len(doc.path), doc.path, doc.doc_id)


def _candidate_pairs(signatures: Sequence[np.ndarray | None]) -> Iterator[tuple[int, int]]:
    """Pairs (j, i), j < i, whose MinHash signatures agree on all rows of at least one LSH band.

    The banding of datasketch's MinHashLSH (LSH_BANDS), done on all signatures at once.
    """
    eligible = np.asarray([i for i, s in enumerate(signatures) if s is not None], dtype=np.int64)
    if len(eligible) < 2:
        return
    bands, rows = LSH_BANDS
    matrix = np.stack([signatures[i] for i in eligible])
    pairs: set[tuple[int, int]] = set()
    for b in range(bands):
        band = matrix[:, b * rows : (b + 1) * rows]
        order = np.lexsort(band.T[::-1])
        ordered = band[order]
        same = np.all(ordered[1:] == ordered[:-1], axis=1)  # row k+1 equals row k
        if not same.any():
            continue
        starts = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)))
        for lo, hi in zip(starts[::2], starts[1::2], strict=True):
            bucket = sorted(int(eligible[k]) for k in order[lo : hi + 1])
            pairs.update(itertools.combinations(bucket, 2))
    yield from sorted(pairs, key=lambda pair: (pair[1], pair[0]))
