"""Hits → an extractive answer: the best whole sentences of the passages, each with a citation."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from coverage_search.passages.chunking import split_sentences
from coverage_search.query.links import text_fragment
from coverage_search.records import Answer, Citation, SearchFilters, SearchHit

if TYPE_CHECKING:
    from coverage_search.embed.embedder import Embedder

NOT_FOUND = (
    "No passage in the coverage answers this closely enough; try other words or relax the filters."
)

# Cosine (question vs sentence, all-MiniLM-L6-v2) the best sentence must reach to be quoted.
# Measured with bench/answer_threshold.py (top-5 hybrid hits, best sentence): 12 questions
# about the seed article scored 0.58-0.91 and 12 TIME 1963 queries on their own documents
# 0.54-0.76 (answerable); 10 off-topic questions on the article ("boiling point of tungsten",
# "best pizza in Naples") scored 0.03-0.24 and the TIME queries on the article 0.15-0.24
# (must be refused). 0.35 sits in that gap, a little nearer the refused side, which is tight.
MIN_RELEVANCE = 0.35
# A sentence from hit 1 gets +RANK_PRIOR, hit n gets +RANK_PRIOR/n: the passage ranking saw the
# whole passage (and keywords), which a lone sentence's cosine does not; kept small so a clearly
# better sentence from a lower hit still wins.
RANK_PRIOR = 0.03
# Chosen sentences more alike than this are near-repeats (syndicated copies, restatements).
NEAR_REPEAT = 0.9
# After the first two, further sentences must be within this of the best score: no padding.
PADDING_MARGIN = 0.10
MIN_WORDS = 5
# Sentences are taken from the first ANSWER_HITS hits only: embedding them is most of an
# answer's cost (about 35 ms of CPU per hit), and with the rank prior a sentence from hit 6+
# rarely wins; a k=20 result list would otherwise cost four times as much for the same answer.
ANSWER_HITS = 5
# Sentence vectors kept in memory (384 floats each: 10,000 ≈ 15 MB). The same passages come
# back for related questions, and embedding their sentences is most of an answer's time.
SENTENCE_CACHE_SIZE = 10_000
_NOT_PROSE = re.compile(r"^\s*(#|\*?image:|!\[|\|)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """One sentence of a hit's passage and how well it answers the question."""

    hit_index: int  # 0-based position of the hit in the list
    start: int  # offset of the sentence in the hit's passage text
    sentence: str
    relevance: float  # cosine with the question
    score: float  # relevance plus the rank prior


def answer_from_hits(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Embedder,
    *,
    max_sentences: int = 4,
    min_relevance: float = MIN_RELEVANCE,
    filters: SearchFilters | None = None,
) -> Answer:
    """Pick the 2-`max_sentences` sentences of `hits` that best answer `question`, each cited."""
    hits = tuple(hits)
    if not hits:
        return Answer(question, (), hits, found=False, message=no_results_message(filters))
    scored, vectors = score_sentences(question, hits, embedder)
    if not scored:
        return Answer(question, (), hits, found=False, message=NOT_FOUND)
    chosen = _choose(scored, vectors, max_sentences=max_sentences, min_relevance=min_relevance)
    if not chosen:
        return Answer(question, (), hits, found=False, message=NOT_FOUND)
    citations = tuple(_cite(hits, c) for c in _reading_order(chosen))
    return Answer(question, citations, hits, found=True)


def no_results_message(filters: SearchFilters | None) -> str:
    """Say which filter to relax when a search came back empty."""
    if filters is None or not filters.active:
        return "No passage matches this question. Try other words, or add coverage to the corpus."
    relax = []
    if filters.outlets:
        relax.append("the outlet filter (" + ", ".join(filters.outlets) + ")")
    if filters.since or filters.until:
        relax.append(f"the date range ({filters.since or '…'} to {filters.until or '…'})")
    if filters.language:
        relax.append(f"the language filter ({filters.language})")
    return "No passage matches with these filters. Relax " + " or ".join(relax) + "."


def score_sentences(
    question: str, hits: Sequence[SearchHit], embedder: Embedder
) -> tuple[list[ScoredSentence], np.ndarray]:
    """Every prose sentence of `hits` scored against `question`, with the sentence vectors.

    All sentences are embedded in one batch with the model that embedded the passages.
    """
    candidates = _sentences(hits[:ANSWER_HITS])
    if not candidates:
        return [], np.zeros((0, 0), dtype=np.float32)
    vectors = _SENTENCE_VECTORS.encode(embedder, [c.sentence for c in candidates])
    relevance = vectors @ embedder.encode_query(question)
    scored = [
        ScoredSentence(
            c.hit_index, c.start, c.sentence, float(r), float(r) + RANK_PRIOR / (c.hit_index + 1)
        )
        for c, r in zip(candidates, relevance, strict=True)
    ]
    return scored, vectors


class _SentenceVectors:
    """A bounded, thread-safe LRU of sentence vectors keyed by model and sentence text."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, embedder: Embedder, sentences: Sequence[str]) -> np.ndarray:
        keys = [(embedder.model_id, s) for s in sentences]
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for k in found:
                self._items.move_to_end(k)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            fresh = embedder.encode([s for _, s in missing])  # one batch for all new sentences
            with self._lock:
                for k, v in zip(missing, fresh, strict=True):
                    found[k] = self._items[k] = v
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_SENTENCE_VECTORS = _SentenceVectors(SENTENCE_CACHE_SIZE)


def clear_sentence_cache() -> None:
    """Forget cached sentence vectors (benchmarks use it to time answers from scratch)."""
    _SENTENCE_VECTORS.clear()


def _sentences(hits: Sequence[SearchHit]) -> list[ScoredSentence]:
    """Every prose sentence of every hit: verbatim, only outer whitespace stripped."""
    out: list[ScoredSentence] = []
    for i, hit in enumerate(hits):
        for start, end in split_sentences(hit.text):
            raw = hit.text[start:end]
            sentence = raw.strip()
            if len(sentence.split()) < MIN_WORDS or _NOT_PROSE.match(sentence):
                continue
            out.append(ScoredSentence(i, start + raw.index(sentence), sentence, 0.0, 0.0))
    return out


def _choose(
    scored: list[ScoredSentence],
    vectors: np.ndarray,
    *,
    max_sentences: int,
    min_relevance: float,
) -> list[ScoredSentence]:
    """Greedy pick by score, skipping near-repeats of what is already chosen (MMR-style)."""
    order = sorted(range(len(scored)), key=lambda j: -scored[j].score)
    if scored[order[0]].relevance < min_relevance:
        return []
    best = scored[order[0]].score
    picked: list[int] = []
    seen: set[str] = set()
    for j in order:
        cand = scored[j]
        if len(picked) >= max_sentences or cand.relevance < min_relevance:
            break
        if len(picked) >= 2 and cand.score < best - PADDING_MARGIN:
            break
        if cand.sentence in seen:
            continue
        if picked and float(np.max(vectors[picked] @ vectors[j])) > NEAR_REPEAT:
            continue
        picked.append(j)
        seen.add(cand.sentence)
    return [scored[j] for j in picked]


def _reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Lead with the best sentence's hit; within one hit keep the passage's own order.

    Pure score order can put a passage's second sentence before its first, which reads
    backwards ("That choice matters." before what it refers to); grouping by hit, hits
    ordered by their best sentence, keeps the strongest answer first and each quote readable.
    """
    hit_order: dict[int, int] = {}
    for c in chosen:  # chosen is best-first
        hit_order.setdefault(c.hit_index, len(hit_order))
    return sorted(chosen, key=lambda c: (hit_order[c.hit_index], c.start))


def _cite(hits: Sequence[SearchHit], cand: ScoredSentence) -> Citation:
    hit = hits[cand.hit_index]
    return Citation(
        number=cand.hit_index + 1, sentence=cand.sentence, link=sentence_link(hit, cand.sentence),
        hit_rank=hit.rank,
    )


def sentence_link(hit: SearchHit, sentence: str) -> str:
    """The hit's link retargeted at one of its sentences.

    The hit's link is already the safe base (an http(s) page, else the corpus file) plus a
    fragment for the whole passage; swapping in the sentence's own fragment keeps that base.
    PDF links keep `#page=N`: viewers do not honor text fragments inside PDFs.
    """
    if hit.page is not None:
        return hit.link
    return hit.link.split("#", 1)[0] + text_fragment(sentence)

