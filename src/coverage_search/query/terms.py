"""Query → keyword terms: glue words out, the commonest terms pruned, the engine asked."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from coverage_search.engine.base import Engine, Ranked
from coverage_search.query.inflections import with_inflections
from coverage_search.records import SearchFilters

if TYPE_CHECKING:
    from coverage_search.query.settings import SearchSettings

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


def idf_mass(terms: Sequence[str], docs: Sequence[int], passages: int) -> float:
    """What a passage holding each term once, at average length, scores in BM25: the sum of
    the terms' idf (k1 + 1 over 1 + k1 is 1). Terms no passage holds add nothing."""
    return sum(
        math.log(1.0 + (passages - n + 0.5) / (n + 0.5))
        for t, n in zip(terms, docs, strict=True)
        if n > 0
    )


def keyword_search(
    query: str,
    settings: SearchSettings,
    *,
    mode: str,
    k: int,
    engine: Engine,
    filters: SearchFilters,
    limit: int,
) -> tuple[Ranked, float]:
    """Keyword hits for a query in `mode`, its commonest terms left out (see `prune_terms`),
    and the idf mass of the terms searched (0 when fusion does not weigh it).

    When the pruned query finds fewer than k passages (a filter that the rare terms miss, say),
    it runs again with every term, so a search never comes back short while passages match.
    """
    terms = keyword_terms(query)
    if settings.inflections:
        terms = with_inflections(terms)[:MAX_QUERY_TERMS]
    kept = terms
    max_df = settings.hybrid_max_df if mode == "hybrid" else settings.keyword_max_df
    weighed = mode == "hybrid" and settings.keyword_confidence > 0
    prune = max_df < 1.0 and len(terms) > settings.keyword_min_terms
    docs, passages = engine.term_docs(terms) if weighed or prune else ([], 0)
    if prune:
        kept = prune_terms(
            terms, docs, passages, max_df=max_df, min_terms=settings.keyword_min_terms
        )
    if not kept:
        return [], 0.0
    hits = engine.keyword(kept, filters, limit=limit)
    if len(hits) < k and len(kept) < len(terms):
        kept = terms
        hits = engine.keyword(terms, filters, limit=limit)
    if not weighed:
        return hits, 0.0
    held = dict(zip(terms, docs, strict=True))
    return hits, idf_mass(kept, [held[t] for t in kept], passages)
