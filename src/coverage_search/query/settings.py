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
