"""What makes a sentence answer a question: the features the answer's combiner weighs.

Each candidate sentence of the top hits gets a row of features: its own cosine with the
question, the cosine of it joined with its neighbour (a why/how answer often continues in the
next sentence), how its passage ranked, which question words it holds (weighted by rarity),
and whether it has what the question's type asks for (a number, a date, a name, a reason).
The weights are fitted by bench/fit_answer.py on the tune halves of the dev sets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coverage_search.engine.base import Engine, keyword_text
from coverage_search.passages.sentences import split_sentences
from coverage_search.query.terms import keyword_terms
from coverage_search.records import SearchHit

KINDS = ("who", "what", "when", "where", "why", "how", "number")
FEATURES = (
    "cosine",  # sentence vs question
    "cosine_gap",  # cosine minus the best cosine among the candidates
    "with_next",  # the sentence and the next one, together, vs question
    "with_previous",
    "passage_score",  # the hit's fused score
    "passage_rank",  # 1 / rank of the hit
    "keywords",  # share of the question's rare words the sentence holds
    "kind_match",  # the sentence has what the question's kind asks for
    "first_in_passage",
    "length",  # log of the word count
    "focus_cosine",  # sentence vs the question without its topic words (focus_question)
    "focus_gap",  # focus_cosine minus the best focus_cosine among the candidates
    "local_keywords",  # like keywords, each word also weighted by how few top hits hold it
)
# Logistic regression over FEATURES, fitted on the tune halves of bench/data/qa_seed.jsonl and
# qa_time.jsonl by bench/fit_answer.py (results/fit_answer.md): score = WEIGHTS · x + BIAS.
WEIGHTS = (
    0.6146, 0.9654, 0.2723, 1.5785, 2.0496, 1.1475, 0.1842, 1.4715, 0.2236, 1.1543,
    2.1081, 3.2365, 4.0953,
)  # fmt: skip
BIAS = -7.4398
# The best sentence's own cosine must reach this for the answer to quote anything: the highest
# threshold that refused no answerable question of the tune halves (bench/refusal.py). The
# combiner's score ranks sentences but is relative (gaps, the list's best passage), so it
# cannot say whether anything answers at all.
MIN_COSINE = 0.25
MIN_WORDS = 5
# A question word held by at least this share of the top hits names the topic (the article's
# subject: "Ankara", "collision"), not what is asked about it ("died", "on the ground"). Those
# words match the lede of every story on the subject, so the focus features drop or discount
# them. Two thirds measured best of 1/3, 1/2, 2/3 and "all hits" under the tune/confirm rule
# (bench/results/fit_answer.md).
TOPIC_SHARE = 0.67
_NOT_PROSE = re.compile(r"^\s*(#|\*?image:|!\[|\|)", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion billions half third quarter "
    "dozen percent per cent several"
)
_NUMBER = re.compile(r"\d|\b(?:" + "|".join(_NUMBER_WORDS.split()) + r")\b", re.IGNORECASE)
_MONTHS = "january february march april may june july august september october november december"
_DATE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)\b|\b(?:" + "|".join(_MONTHS.split()) + r")\b|\b(?:"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|week|month|year)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(?:because|since|so that|in order to|reason|why|due to|owing to|led|lead|"
    r"was that|is that|argued|believed|feared|wanted|meant|would|could|must|needed|"
    r"therefore|thus|hence|after|for fear)\b",
    re.IGNORECASE,
)
_MEANS = re.compile(
    r"\b(?:by|through|using|with|via|must|should|has to|have to|built|designed|engineered)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(r"\b(?:in|at|near|from|across|inside|outside|where)\s+[A-Z]")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+|\b[A-Z]{2,}\b")
_KIND_PATTERNS = (
    (
        "number",
        r"^\s*(how (many|much|long|far|big|large|old|often)|what (share|percent"
        r"|proportion|number|fraction|amount|sum|price))\b",
    ),
    ("when", r"^\s*(when|in what year|what year|in which (year|month)|what date|how soon)\b"),
    ("why", r"^\s*why\b|\bwhat (led|made|caused|drove|prompted)\b|\breasons?\b"),
    ("how", r"^\s*how\b"),
    (
        "who",
        r"^\s*(who|whom|whose|which (person|people|company|companies|firm|firms|rivals"
        r"|man|woman|leader|group))\b",
    ),
    ("where", r"^\s*(where|in which (country|city|place|region))\b"),
)
_QUESTION_KIND = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in _KIND_PATTERNS)


def question_kind(question: str) -> str:
    """who/what/when/where/why/how/number from the question's wording ("what" by default)."""
    for kind, pattern in _QUESTION_KIND:
        if pattern.search(question):
            return kind
    return "what"


def kind_match(kind: str, sentence: str) -> float:
    """1.0 when the sentence has what a question of `kind` asks for, else 0.0."""
    pattern = {
        "number": _NUMBER,
        "when": _DATE,
        "why": _REASON,
        "how": _MEANS,
        "where": _PLACE,
        "who": _NAME,
    }.get(kind)
    return 1.0 if pattern is not None and pattern.search(sentence) else 0.0


def _stem(word: str) -> str:
    # Six-letter prefixes match inflections (safety/safe, regulate/regulation) closely
    # enough for a feature, with no stemmer dependency.
    return word.casefold()[:6]


def keyword_weights(terms: Sequence[str], docs: Sequence[int], passages: int) -> dict[str, float]:
    """Question stems → idf-like weights from how many passages hold each term."""
    out: dict[str, float] = {}
    for term, n in zip(terms, docs, strict=True):
        out[_stem(term)] = math.log(1.0 + (passages + 1) / (n + 1))
    return out


def question_weights(engine: Engine, question: str) -> dict[str, float]:
    """The question's keyword stems weighted by how rare the engine says they are."""
    terms = keyword_terms(question)
    docs, passages = engine.term_docs(terms)
    return keyword_weights(terms, docs, passages)


def _words(text: str) -> list[str]:
    return _WORD.findall(keyword_text(text))


def topic_stems(weights: Mapping[str, float], hits: Sequence[SearchHit]) -> set[str]:
    """The question's stems that most of the top hits hold: the topic, not the question."""
    held = [{_stem(w) for w in _words(f"{h.title} {h.text}")} for h in hits]
    need = max(2.0, TOPIC_SHARE * len(hits))
    return {s for s in weights if sum(s in h for h in held) >= need}


def focus_question(question: str, topic: set[str]) -> str:
    """The question without its topic words ("How many people on the ground died?")."""
    kept = [
        w
        for w in question.split()
        if not (ws := _WORD.findall(w)) or any(_stem(x) not in topic for x in ws)
    ]
    return " ".join(kept) if kept else question


def local_weights(weights: Mapping[str, float], hits: Sequence[SearchHit]) -> dict[str, float]:
    """Each stem's weight times the share of the top hits that lack it (a rarity among them)."""
    if not hits:
        return dict(weights)
    held = [{_stem(w) for w in _words(h.text)} for h in hits]
    return {s: w * (1.0 - sum(s in h for h in held) / len(held)) for s, w in weights.items()}


def keyword_share(weights: Mapping[str, float], sentence: str) -> float:
    """Weighted share of the question's stems found in the sentence."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    stems = {_stem(w) for w in _words(sentence)}
    return sum(w for s, w in weights.items() if s in stems) / total


@dataclass(frozen=True, slots=True)
class Candidate:
    """One prose sentence of a hit: verbatim, with its place in the passage."""

    hit_index: int  # 0-based position of the hit in the list
    start: int  # offset in the hit's passage text
    sentence: str
    ordinal: int  # position among the passage's candidate sentences


def candidates(hits: Sequence[SearchHit]) -> list[Candidate]:
    """Every prose sentence of every hit: verbatim, only outer whitespace stripped."""
    out: list[Candidate] = []
    for i, hit in enumerate(hits):
        ordinal = 0
        for start, end in split_sentences(hit.text):
            raw = hit.text[start:end]
            sentence = raw.strip()
            if len(sentence.split()) < MIN_WORDS or _NOT_PROSE.match(sentence):
                continue
            out.append(Candidate(i, start + raw.index(sentence), sentence, ordinal))
            ordinal += 1
    return out


def features(
    question_vector: np.ndarray,
    focus_vector: np.ndarray,
    kind: str,
    cands: Sequence[Candidate],
    vectors: np.ndarray,
    hits: Sequence[SearchHit],
    weights: Mapping[str, float],
) -> np.ndarray:
    """One row of FEATURES per candidate (vectors: the candidates' unit sentence vectors).

    `focus_vector` embeds focus_question (the question itself when it has no topic words).
    """
    n = len(cands)
    cos = vectors @ question_vector
    focus = vectors @ focus_vector
    best_focus = float(focus.max()) if n else 0.0
    local = local_weights(weights, hits)
    nxt = np.zeros(n, dtype=np.float32)
    prev = np.zeros(n, dtype=np.float32)
    for j in range(n):
        same_next = j + 1 < n and cands[j + 1].hit_index == cands[j].hit_index
        same_prev = j > 0 and cands[j - 1].hit_index == cands[j].hit_index
        if same_next:
            pair = vectors[j] + vectors[j + 1]
            nxt[j] = float(pair @ question_vector) / max(float(np.linalg.norm(pair)), 1e-6)
        else:
            nxt[j] = cos[j]
        if same_prev:
            pair = vectors[j] + vectors[j - 1]
            prev[j] = float(pair @ question_vector) / max(float(np.linalg.norm(pair)), 1e-6)
        else:
            prev[j] = cos[j]
    best = float(cos.max()) if n else 0.0
    rows = np.zeros((n, len(FEATURES)), dtype=np.float32)
    for j, c in enumerate(cands):
        hit = hits[c.hit_index]
        rows[j] = (
            cos[j],
            cos[j] - best,
            nxt[j],
            prev[j],
            hit.score,
            1.0 / (c.hit_index + 1),
            keyword_share(weights, c.sentence),
            kind_match(kind, c.sentence),
            1.0 if c.ordinal == 0 else 0.0,
            math.log(len(c.sentence.split())),
            focus[j],
            focus[j] - best_focus,
            keyword_share(local, c.sentence),
        )
    return rows


def combine(rows: np.ndarray, weights: Sequence[float] = WEIGHTS, bias: float = BIAS) -> np.ndarray:
    """The combiner's log-odds for each row of features."""
    return np.asarray(rows, dtype=np.float64) @ np.asarray(weights, dtype=np.float64) + bias
