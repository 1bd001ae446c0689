"""Hits → an extractive answer: the best whole sentences of the passages, each with a citation."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from coverage_search.query.aliases import expand_aliases
from coverage_search.query.evidence import (
    FEATURES,
    MIN_COSINE,
    Candidate,
    candidates,
    combine,
    features,
    focus_question,
    question_kind,
    topic_stems,
)
from coverage_search.query.links import text_fragment
from coverage_search.query.names import UNKNOWN_NAME_MARGIN, unknown_names_note
from coverage_search.records import Answer, Citation, SearchFilters, SearchHit

if TYPE_CHECKING:
    from coverage_search.embed.embedder import Embedder

NOT_FOUND = (
    "No passage in the coverage answers this closely enough; try other words, or add coverage "
    "to the corpus."
)

# Chosen sentences more alike than this are near-repeats (syndicated copies, restatements).
NEAR_REPEAT = 0.9
# After the first two, further sentences must be within this of the best score (in the
# combiner's log-odds). 5 quotes up to four sentences far more often than 2 or 3, and measured
# better on both halves (quoted: TIME tune 0.568 vs 0.523, confirm 0.732 vs 0.683; seed confirm
# 0.600 vs 0.520, tune equal; bench/fit_answer.py --margins).
PADDING_MARGIN = 5.0
# Sentences are taken from the first ANSWER_HITS hits, and, when one document holds most of
# them, from its later passages up to rank ANSWER_POOL: embedding sentences is most of an
# answer's cost (about 3 ms a sentence on 2 cores). More hits of any document measured worse
# on TIME (other stories' ledes compete); more passages of the one story asked about measured
# better on the seed article, TIME unchanged (bench/eval_pool.py, results/answer_pool.md). To
# rank 10 and to rank 15 tied on the tune halves; 10 embeds a third fewer sentences on one
# article (bench/bench_app.py times it), so 10 (15 quoted two more seed confirm questions).
ANSWER_HITS = 5
ANSWER_POOL = 10
# The answer's hits are not capped per document: the passage that answers is most often the
# second or third of the right article, and a cap of 2 left it out (TIME dev questions with the
# right passage in the first 5: 37 of 44 capped, 42 uncapped; bench/results/fit_answer.md).
ANSWER_PER_DOCUMENT = 0
# The answer's search leaves the document prior out (SearchSettings.document_prior): its
# sentences weigh the passages themselves, and with the prior at 0.25 or 0.35 it quoted one
# TIME tune question fewer (30 → 29; bench/qa_levers.py --group prior, qa_levers_prior.md).
ANSWER_DOCUMENT_PRIOR = 0.0
# Sentence vectors kept in memory (384 floats each: 10,000 ≈ 15 MB). The same passages come
# back for related questions, and embedding their sentences is most of an answer's time.
SENTENCE_CACHE_SIZE = 10_000
# A quoted sentence that opens on one of these refers back ("It was that…", "They argued…"):
# it is quoted with the sentence before it, up to this many words for the two.
_ANAPHOR = re.compile(r"(?:It|This|That|These|Those|Such|He|She|They|Its|Their|His|Her)\b")
ANTECEDENT_WORDS = 70


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """One candidate sentence of a hit, its features and the combiner's score (log-odds)."""

    candidate: Candidate
    features: tuple[float, ...]
    score: float

    @property
    def hit_index(self) -> int:
        return self.candidate.hit_index

    @property
    def sentence(self) -> str:
        return self.candidate.sentence

    @property
    def cosine(self) -> float:
        return self.features[0]


def answer_from_hits(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Embedder,
    *,
    keyword_weights: Mapping[str, float] | None = None,
    max_sentences: int = 4,
    min_cosine: float = MIN_COSINE,
    refuse_below: float = MIN_COSINE,
    filters: SearchFilters | None = None,
    rerank: bool = True,
    show: int | None = None,
    aliases: bool = True,
    unknown: Sequence[str] = (),
) -> Answer:
    """Pick the 1-`max_sentences` sentences of `hits` that best answer `question`, each cited.

    With `rerank`, the hits read (answer_pool) are put in the order of their best sentence:
    the passage that holds the answer is shown first, and [n] still points at hit n. No
    sentence under `min_cosine` is quoted, and nothing at all unless the best reaches
    `refuse_below` (the index's refusal bar, CoverageIndex.refusal_floor). The answer lists
    `show` hits (all when None), more when a cited one ranks below. With `aliases` False the
    sentences are scored against the question as typed, and searched_as stays "". `unknown`
    names the question's names no passage holds (names.unknown_names): they raise the bar by
    UNKNOWN_NAME_MARGIN, and a refusal says the coverage never mentions them.
    """
    searched = expand_aliases(question) if aliases else question
    named = searched if searched != question else ""
    if not hits:
        return Answer(question, (), (), False, no_results_message(filters), named)
    # The pool leads the list, so a sentence's hit index is its hit's place in both.
    pool = answer_pool(hits)
    read = {(h.doc_id, h.passage_id) for h in pool}
    hits = pool + tuple(h for h in hits if (h.doc_id, h.passage_id) not in read)
    # Scored against the query as searched: "the ChatGPT maker" is OpenAI.
    scored, vectors = score_sentences(searched, pool, embedder, keyword_weights or {})
    if not scored:
        return Answer(question, (), hits[:show], False, not_found(filters), named)
    if rerank:
        hits, scored = _rerank(hits, scored)
    bar = max(refuse_below, min_cosine) + (UNKNOWN_NAME_MARGIN if unknown else 0.0)
    if max(s.cosine for s in scored) < bar:
        # A name the whole index lacks is not found by relaxing a filter either.
        message = unknown_names_note(unknown) + not_found(None if unknown else filters)
        return Answer(question, (), hits[:show], False, message, named)
    chosen = _choose(scored, vectors, max_sentences=max_sentences, min_cosine=min_cosine)
    if not chosen:
        return Answer(question, (), hits[:show], False, not_found(filters), named)
    chosen = _with_antecedents(chosen, scored, hits)
    citations = tuple(_cite(hits, c) for c in _reading_order(chosen))
    if show is not None:  # never cut a cited hit
        hits = hits[: max(show, *(c.number for c in citations))]
    return Answer(question, citations, hits, found=True, searched_as=named)


def answer_pool(hits: Sequence[SearchHit]) -> tuple[SearchHit, ...]:
    """The hits an answer reads: the first ANSWER_HITS, then, when one document holds most of
    them (the question is about that story), its later passages up to rank ANSWER_POOL."""
    head = tuple(hits[:ANSWER_HITS])
    held = Counter(h.doc_id for h in head)
    story = {doc for doc, n in held.items() if 2 * n > len(head)}
    return head + tuple(h for h in hits[ANSWER_HITS:ANSWER_POOL] if h.doc_id in story)


def not_found(filters: SearchFilters | None) -> str:
    """The refusal, naming the filters that narrowed the search (when any did)."""
    if filters is None or not filters.active:
        return NOT_FOUND
    return (
        "No passage answers this closely enough with these filters; try other words, or relax "
        + _relax(filters)
        + "."
    )


def no_results_message(filters: SearchFilters | None) -> str:
    """Say which filter to relax when a search came back empty."""
    if filters is None or not filters.active:
        return "No passage matches this question. Try other words, or add coverage to the corpus."
    return "No passage matches with these filters. Relax " + _relax(filters) + "."


def _relax(filters: SearchFilters) -> str:
    relax = []
    if filters.outlets:
        relax.append("the outlet filter (" + ", ".join(filters.outlets) + ")")
    if filters.since or filters.until:
        relax.append(f"the date range ({filters.since or '…'} to {filters.until or '…'})")
    if filters.language:
        relax.append(f"the language filter ({filters.language})")
    return " or ".join(relax)


def score_sentences(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Embedder,
    keyword_weights: Mapping[str, float],
) -> tuple[list[ScoredSentence], np.ndarray]:
    """Every prose sentence of `hits` (the answer's pool) scored by the combiner, with the
    sentence vectors. All new sentences are embedded in one batch with the passages' model.
    """
    pool = tuple(hits)
    cands = candidates(pool)
    if not cands:
        return [], np.zeros((0, 0), dtype=np.float32)
    vectors = _SENTENCE_VECTORS.encode(embedder, [c.sentence for c in cands])
    question_vector = embedder.encode_query(question)
    focus = focus_question(question, topic_stems(keyword_weights, pool))
    focus_vector = question_vector if focus == question else embedder.encode_query(focus)
    rows = features(
        question_vector,
        focus_vector,
        question_kind(question),
        cands,
        vectors,
        pool,  # the hits the sentences come from: features never depend on k
        keyword_weights,
    )
    scores = combine(rows)
    scored = [
        ScoredSentence(c, tuple(round(float(v), 4) for v in row), float(score))
        for c, row, score in zip(cands, rows, scores, strict=True)
    ]
    return scored, vectors


def best_cosine(question: str, hits: Sequence[SearchHit], embedder: Embedder) -> float:
    """The highest cosine of any candidate sentence of the answer's pool with the question."""
    cands = candidates(answer_pool(hits))
    if not cands:
        return 0.0
    vectors = _SENTENCE_VECTORS.encode(embedder, [c.sentence for c in cands])
    return float(np.max(vectors @ embedder.encode_query(question)))


def _rerank(
    hits: tuple[SearchHit, ...], scored: list[ScoredSentence]
) -> tuple[tuple[SearchHit, ...], list[ScoredSentence]]:
    """The scored hits in the order of their best sentence (ties keep the search order)."""
    best: dict[int, float] = {}
    for s in scored:
        best[s.hit_index] = max(best.get(s.hit_index, -np.inf), s.score)
    head = sorted(best, key=lambda i: (-best[i], i))
    order = head + [i for i in range(len(hits)) if i not in best]
    position = {old: new for new, old in enumerate(order)}
    reranked = tuple(dataclasses.replace(hits[old], rank=new + 1) for new, old in enumerate(order))
    moved = [
        dataclasses.replace(
            s, candidate=dataclasses.replace(s.candidate, hit_index=position[s.hit_index])
        )
        for s in scored
    ]
    return reranked, moved


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


def sentence_vectors(embedder: Embedder, sentences: Sequence[str]) -> np.ndarray:
    """Unit vectors of sentences, through the bounded cache shared by every answer."""
    return _SENTENCE_VECTORS.encode(embedder, sentences)


def clear_sentence_cache() -> None:
    """Forget cached sentence vectors (benchmarks use it to time answers from scratch)."""
    _SENTENCE_VECTORS.clear()


def _choose(
    scored: list[ScoredSentence],
    vectors: np.ndarray,
    *,
    max_sentences: int,
    min_cosine: float,
) -> list[ScoredSentence]:
    """Greedy pick by score, skipping near-repeats of what is already chosen (MMR-style).

    Nothing is chosen when no sentence's own cosine reaches `min_cosine` (nothing answers).
    """
    order = sorted(range(len(scored)), key=lambda j: -scored[j].score)
    if max(s.cosine for s in scored) < min_cosine:
        return []
    best = scored[order[0]].score
    picked: list[int] = []
    seen: set[str] = set()
    for j in order:
        cand = scored[j]
        if len(picked) >= max_sentences:
            break
        if cand.cosine < min_cosine:
            continue
        if len(picked) >= 2 and cand.score < best - PADDING_MARGIN:
            break
        if cand.sentence in seen:
            continue
        if picked and float(np.max(vectors[picked] @ vectors[j])) > NEAR_REPEAT:
            continue
        picked.append(j)
        seen.add(cand.sentence)
    return [scored[j] for j in picked]


def _with_antecedents(
    chosen: list[ScoredSentence], scored: Sequence[ScoredSentence], hits: Sequence[SearchHit]
) -> list[ScoredSentence]:
    """A chosen sentence that opens on a pronoun ("It was that scaling was real enough to be
    dangerous.") is quoted from the sentence before it, which says what "it" is, unless that
    one is quoted already or the two would run past ANTECEDENT_WORDS."""
    taken = {(c.hit_index, c.candidate.ordinal) for c in chosen}
    before = {(s.hit_index, s.candidate.ordinal + 1): s.candidate for s in scored}
    out = []
    for c in chosen:
        prev = before.get((c.hit_index, c.candidate.ordinal))
        text = hits[c.hit_index].text
        if (
            prev is not None
            and _ANAPHOR.match(c.sentence)
            and (c.hit_index, prev.ordinal) not in taken
            and not text[prev.start + len(prev.sentence) : c.candidate.start].strip()
            and len(prev.sentence.split()) + len(c.sentence.split()) <= ANTECEDENT_WORDS
        ):
            joined = text[prev.start : c.candidate.start + len(c.sentence)]
            c = dataclasses.replace(
                c, candidate=dataclasses.replace(prev, sentence=joined, hit_index=c.hit_index)
            )
        out.append(c)
    return out


def _reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Lead with the best sentence's hit; within one hit keep the passage's own order.

    Pure score order can put a passage's second sentence before its first, which reads
    backwards ("That choice matters." before what it refers to); grouping by hit, hits
    ordered by their best sentence, keeps the strongest answer first and each quote readable.
    """
    hit_order: dict[int, int] = {}
    for c in chosen:  # chosen is best-first
        hit_order.setdefault(c.hit_index, len(hit_order))
    return sorted(chosen, key=lambda c: (hit_order[c.hit_index], c.candidate.start))


def _cite(hits: Sequence[SearchHit], cand: ScoredSentence) -> Citation:
    hit = hits[cand.hit_index]
    return Citation(
        number=cand.hit_index + 1,
        sentence=cand.sentence,
        link=sentence_link(hit, cand.sentence),
        hit_rank=hit.rank,
        score=round(cand.score, 4),
        features=tuple(zip(FEATURES, cand.features, strict=True)),
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
