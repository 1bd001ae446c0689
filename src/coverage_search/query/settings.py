"""How search fuses, prunes and pools its candidates: the tuned defaults in one record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """How hybrid search fuses and weighs its retrievers (defaults chosen on ../shared/eval)."""

    fusion: str = "convex"
    alpha: float = 0.5  # weight of the semantic score in convex fusion
    rrf_k: int = 60
    min_candidates: int = 100
    candidates_per_hit: int = 10
    # Keyword search leaves out query terms found in more than this fraction of the passages
    # (1.0 keeps every term), but keeps at least `keyword_min_terms` of the rarest. Hybrid
    # search, whose dense half makes up for them, leaves out more. The most pruning that lost
    # no nDCG@10 on the tune half (bench/results/levers_keyword.md).
    keyword_max_df: float = 0.4
    hybrid_max_df: float = 0.15
    keyword_min_terms: int = 2
    # Weight of the document prior (fusion.with_document_prior) in convex hybrid search: the
    # mean cosine of a passage's whole document, added to its fused score. Of 0.1-0.5, 0.25 and
    # 0.35 won both tune halves and lost neither confirm half, 0.35 by more on tune (hybrid
    # nDCG@10 SciFact 0.7628 → 0.7657 / 0.7153 → 0.7185, TIME 0.8108 → 0.8216 / 0.8354 →
    # 0.8359; bench/eval_prior.py). Answers leave it out: it lost a quoted TIME tune question.
    document_prior: float = 0.35
