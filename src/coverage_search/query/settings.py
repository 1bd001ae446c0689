"""How search fuses, prunes and pools its candidates: the tuned defaults in one record."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from coverage_search.errors import QueryError

# SearchSettings.question_rewrite's values (query/questions.py rewrites).
REWRITES = ("off", "strip", "template", "strip-alone", "template-alone")
# Each setting's kind and bounds: (whole number?, least, most).
_BOUNDS = {
    "alpha": (False, 0.0, 1.0),
    "rrf_k": (True, 1, 10**6),
    "min_candidates": (True, 1, 10**6),
    "candidates_per_hit": (True, 1, 10**4),
    "keyword_max_df": (False, 0.0, 1.0),
    "hybrid_max_df": (False, 0.0, 1.0),
    "keyword_min_terms": (True, 0, 100),
    "document_prior": (False, 0.0, 1.0),
    "keyword_confidence": (False, 0.0, 10.0),
}


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
    # Convex hybrid search weighs the keyword side by how much of the query its best passage
    # covers (fusion.fuse): full weight from this share of the terms' idf mass; 0 turns it off.
    keyword_confidence: float = 0.0
    # Keyword search also asks for a term's irregular forms ("leave" → "left": query/
    # inflections.py), which the stemmer cannot join.
    inflections: bool = False
    # The query's vector is the mean of its own and that of the query with its abbreviations
    # spelled out as the coverage defines them ("RSP (Responsible Scaling Policy)"). Semantic
    # SciFact nDCG@10 0.7010 → 0.7039 / 0.6846 → 0.6924, hybrid 0.7607 → 0.7607 / 0.7200 →
    # 0.7210 (tune / confirm); the spelled-out words in keyword search lost both halves
    # (bench/eval_abbreviations.py, results/abbreviations.md).
    abbreviations: bool = True
    # A question's vector as the mean of its own and that of a rewrite toward the sentence
    # that answers it (query/questions.py): "template" drops the wh-word and auxiliary of text
    # ending in "?" and adds a cue by kind ("Dario Amodei leave OpenAI because"). On: it lost no
    # dev question on any half and gained passage first on three (seed 20 → 22 / 12 → 13, TIME
    # 24 → 24 / 29 → 30; quoted seed tune 24 → 25), off-topic answers unchanged, nDCG@10
    # unchanged (no BEIR query is a question). "strip" (no cue) lost TIME tune, the "-alone"
    # forms (the rewrite's vector instead of the mean) 3 quoted TIME tune questions
    # (bench/eval_question_variants.py, results/question_variants*.md).
    question_rewrite: str = "template"

    def with_overrides(
        self, fusion: object = None, alpha: object = None, document_prior: object = None
    ) -> SearchSettings:
        """These settings with a search's own fusion, alpha or prior (None keeps the setting)."""
        if fusion is not None and not isinstance(fusion, str):
            raise QueryError(f"Unknown fusion {fusion!r:.40}: use convex or rrf.")
        return replace(
            self,
            fusion=fusion or self.fusion,
            alpha=self.alpha if alpha is None else alpha,  # type: ignore[arg-type]
            document_prior=self.document_prior if document_prior is None else document_prior,  # type: ignore[arg-type]
        )

    def __post_init__(self) -> None:
        if self.fusion not in ("convex", "rrf"):
            raise QueryError(f"Unknown fusion {self.fusion!r}: use convex or rrf.")
        if not isinstance(self.question_rewrite, str) or self.question_rewrite not in REWRITES:
            raise QueryError(
                f"Unknown question_rewrite {self.question_rewrite!r:.40}: use one of "
                f"{', '.join(REWRITES)}."
            )
        for name in ("inflections", "abbreviations"):
            if not isinstance(getattr(self, name), bool):
                raise QueryError(f"{name} must be True or False, not {getattr(self, name)!r:.40}.")
        for f in fields(self):
            if f.name not in _BOUNDS:
                continue
            whole, least, most = _BOUNDS[f.name]
            value = getattr(self, f.name)
            kinds = (int,) if whole else (int, float)
            if (
                isinstance(value, bool)
                or not isinstance(value, kinds)
                or not least <= value <= most  # NaN fails it too; huge ints before isfinite
                or not math.isfinite(value)
            ):
                kind = "a whole number" if whole else "a number"
                long = isinstance(value, int) and abs(value) > 10**40  # repr may refuse it
                shown = "a number too long to print" if long else f"{value!r:.40}"
                raise QueryError(f"{f.name} must be {kind} from {least} to {most}, not {shown}.")
