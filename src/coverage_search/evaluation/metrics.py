"""Ranking metrics as trec_eval and BEIR compute them: nDCG, recall, MRR; percentiles."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def ndcg_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (as trec_eval and BEIR compute it)."""
    gains = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    if ideal == 0:
        return 0.0
    dcg = sum(max(relevant.get(d, 0), 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    return dcg / ideal


def recall_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k."""
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(wanted.intersection(ranking[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the top k (0 if none)."""
    for i, doc in enumerate(ranking[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / i
    return 0.0


def score_rankings(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean nDCG@10, Recall@10, Recall@100 and MRR@10 over the queries in `rankings`."""
    ids = [q for q in rankings if any(r > 0 for r in qrels.get(q, {}).values())]
    if not ids:
        return {"ndcg_at_10": 0.0, "recall_at_10": 0.0, "recall_at_100": 0.0, "mrr_at_10": 0.0}

    def mean(values: Iterable[float]) -> float:
        return sum(values) / len(ids)

    return {
        "ndcg_at_10": mean(ndcg_at(rankings[q], qrels[q], 10) for q in ids),
        "recall_at_10": mean(recall_at(rankings[q], qrels[q], 10) for q in ids),
        "recall_at_100": mean(recall_at(rankings[q], qrels[q], 100) for q in ids),
        "mrr_at_10": mean(mrr_at(rankings[q], qrels[q], 10) for q in ids),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# -- running queries -------------------------------------------------------------------------
