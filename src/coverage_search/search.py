"""Query → dense and keyword candidates → fusion → story/document diversity → ranked hits."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import QueryError
from .records import RetrieverHit

MODES = ("hybrid", "semantic", "keyword")
FUSIONS = ("convex", "rrf")

# Question words and glue: cheap to drop from the keyword query, they carry no topic.
_STOPWORDS = frozenset(
    """
    a an the and or of to in on at by for from with about as is are was were be been being do
    does did done doing have has had having it its this that these those there here what which
    who whom whose why how when where will would shall should can could may might must not no
    i me my we our you your he him his she her they them their than then so if into out up
    down over under again further once also just very too s t
    """.split()  # noqa: SIM905
)
_TERM = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 64
MAX_QUERY_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """How hybrid search fuses and weighs its retrievers (defaults chosen on ../shared/eval)."""

    fusion: str = "convex"
    alpha: float = 0.5  # weight of the semantic score in convex fusion
    rrf_k: int = 60
    bm25_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)  # passage text, heading, title
    min_candidates: int = 100
    candidates_per_hit: int = 10
    # Keyword search leaves out query terms found in more than this fraction of the passages
    # (1.0 keeps every term), but keeps at least `keyword_min_terms` of the rarest. Hybrid
    # search, whose dense half makes up for them, leaves out more. The most pruning that lost
    # no nDCG@10 on the tune half (bench/results/levers_keyword.md).
    keyword_max_df: float = 0.4
    hybrid_max_df: float = 0.15
    keyword_min_terms: int = 2


def clean_query(query: str) -> str:
    """The query with surrounding whitespace removed; refuses an empty one."""
    if not isinstance(query, str) or not query.strip():
        raise QueryError("Type a question or some words to search for.")
    return query.strip()[:MAX_QUERY_CHARS]


def keyword_terms(query: str) -> list[str]:
    """The query's searchable words, casefolded, once each; glue words go when others remain."""
    terms = [t.casefold() for t in _TERM.findall(query)]
    content = [t for t in terms if t not in _STOPWORDS]
    return list(dict.fromkeys(content or terms))[:MAX_QUERY_TERMS]


def prune_terms(
    terms: Sequence[str], docs: Sequence[int], passages: int, *, max_df: float, min_terms: int
) -> list[str]:
    """The terms in at most `max_df` of the passages, topped up with the rarest (at least one).

    `docs[i]` is how many passages hold `terms[i]`. A term in a large share of the passages adds
    little to bm25 (its idf is near zero) yet makes FTS5 score every passage that holds it: on
    100k passages, one such term is most of the cost of a query.
    """
    limit = max_df * passages
    kept = {t for t, n in zip(terms, docs, strict=True) if n <= limit}
    if len(kept) < max(min_terms, 1):
        rarest = sorted(range(len(terms)), key=lambda i: docs[i])  # stable: ties in query order
        kept |= {terms[i] for i in rarest[: max(min_terms, 1)]}
    return [t for t in terms if t in kept]


def fts_query(terms: Sequence[str]) -> str | None:
    """An FTS5 MATCH expression in which every term is quoted, so no input is FTS syntax.

    Terms are OR-ed: bm25 ranks passages with more (and rarer) terms first, the way a search
    box is expected to behave, instead of demanding every word. Returns None when there is no
    term (the query had only punctuation or emoji).
    """
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


TermDocs = Callable[[Sequence[str]], tuple[list[int], int]]
Ranked = list[tuple[int, float]]


def keyword_search(
    query: str,
    settings: SearchSettings,
    *,
    mode: str,
    k: int,
    term_docs: TermDocs,
    run: Callable[[str], Ranked],
) -> Ranked:
    """Keyword hits for a query in `mode`, its commonest terms left out (see `prune_terms`).

    `term_docs(terms)` gives how many passages hold each term and how many passages there are;
    `run(match)` runs an FTS5 MATCH expression. When the pruned query finds fewer than k
    passages (a filter that the rare terms miss, say), it runs again with every term, so a
    search never comes back short while passages match.
    """
    terms = keyword_terms(query)
    kept = terms
    max_df = settings.hybrid_max_df if mode == "hybrid" else settings.keyword_max_df
    if max_df < 1.0 and len(terms) > settings.keyword_min_terms:
        docs, passages = term_docs(terms)
        kept = prune_terms(
            terms, docs, passages, max_df=max_df, min_terms=settings.keyword_min_terms
        )
    match = fts_query(kept)
    if match is None:
        return []
    hits = run(match)
    if len(hits) < k and len(kept) < len(terms):
        hits = run(fts_query(terms) or match)
    return hits


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {i: (s - lo) / (hi - lo) for i, s in scores.items()}


def fuse(
    semantic: Sequence[tuple[int, float]],
    keyword: Sequence[tuple[int, float]],
    settings: SearchSettings,
) -> list[tuple[int, float]]:
    """Passage ids with fused scores, best first. Each list is (id, score), best first."""
    if settings.fusion == "rrf":
        fused: dict[int, float] = {}
        for ranked in (semantic, keyword):
            for rank, (pid, _) in enumerate(ranked, start=1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (settings.rrf_k + rank)
    elif settings.fusion == "convex":
        sem = _minmax(dict(semantic))
        kw = _minmax(dict(keyword))
        a = settings.alpha
        fused = {
            pid: a * sem.get(pid, 0.0) + (1 - a) * kw.get(pid, 0.0)
            for pid in sem.keys() | kw.keys()
        }
    else:
        raise QueryError(f"Unknown fusion {settings.fusion!r}: use one of {', '.join(FUSIONS)}.")
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def retriever_ranks(ranked: Sequence[tuple[int, float]]) -> dict[int, RetrieverHit]:
    """Each passage's 1-based rank and raw score in one retriever's list."""
    return {
        pid: RetrieverHit(rank=i, score=score) for i, (pid, score) in enumerate(ranked, start=1)
    }


def diversify(
    ranked: Sequence[tuple[int, float]],
    doc_of: dict[int, str],
    *,
    story_of: dict[int, str] | None = None,
    k: int,
    per_group: int,
) -> list[tuple[int, float]]:
    """The first k passages, at most `per_group` per document (0: no cap) while others remain.

    With `story_of`, a story is shown through the first of its copies to rank: passages of its
    other copies are left out (the hit lists them as "also in"). When fewer than k documents
    match, the list is filled with the next passages of the documents already in it rather
    than cut short (asking for 5 passages of a one-article corpus gives 5), in rank order.
    """
    taken: list[tuple[int, float]] = []
    held_back: list[tuple[int, float]] = []
    counts: dict[str, int] = {}
    shown_copy: dict[str, str] = {}
    for pid, score in ranked:
        doc = doc_of.get(pid)
        if doc is None:
            continue
        if story_of is not None and shown_copy.setdefault(story_of.get(pid, doc), doc) != doc:
            continue
        if per_group > 0 and counts.get(doc, 0) >= per_group:
            held_back.append((pid, score))
            continue
        counts[doc] = counts.get(doc, 0) + 1
        taken.append((pid, score))
        if len(taken) >= k:
            return taken
    if not held_back:
        return taken
    order = {pid: i for i, (pid, _) in enumerate(ranked)}
    filled = taken + held_back[: k - len(taken)]
    return sorted(filled, key=lambda item: order[item[0]])
