"""When an answer refuses: the best sentence's cosine against what unrelated questions reach.

How close a sentence's cosine comes to a question depends on the corpus: on a broad news
archive an unrelated question still finds a sentence at 0.3-0.5, on one article about AI at
0.1-0.2. So the bar is set per index: the median best cosine of PROBES (everyday questions no
news corpus answers) plus NULL_MARGIN, never below evidence.MIN_COSINE.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from coverage_search.query.answer import best_cosine
from coverage_search.query.evidence import MIN_COSINE
from coverage_search.records import SearchHit

if TYPE_CHECKING:
    from coverage_search.embed.embedder import Embedder

# Written for calibration only: none is a dev or test question (bench/data/qa_offtopic.jsonl
# holds the off-topic questions the rule is measured on).
PROBES = (
    "How do I remove a red wine stain from a carpet?",
    "What is the capital of Australia?",
    "How many legs does a spider have?",
    "What time does the sun set in winter in Oslo?",
    "How do I change a flat tyre on a bicycle?",
    "Which planet is closest to the sun?",
    "What is the recipe for a basic pizza dough?",
    "How long does it take to learn to play the guitar?",
    "Who painted the ceiling of the Sistine Chapel?",
    "What is the chemical symbol for gold?",
    "How do I convert Celsius to Fahrenheit?",
    "Which country has won the most football world cups?",
    "How often should I water a cactus?",
    "What is the tallest mountain in Africa?",
    "How do I sort a list in JavaScript?",
    "What are the symptoms of the common cold?",
    "How many players are on a basketball team on court?",
    "What is the longest river in South America?",
    "How do I fold a fitted sheet?",
    "What is the square root of 144?",
    "Which instrument has 88 keys?",
    "How do I clean a cast iron pan?",
    "What language is spoken in Brazil?",
    "How far is the moon from the earth?",
)
# The tune halves refuse nothing up to a margin of 0.102 (TIME; seed article 0.151), so 0.08
# keeps 0.02 of room under every answerable tune question: questions nobody has seen spread
# wider, and a wrong refusal costs more than a weak answer (bench/refusal.py,
# results/refusal.md: off-topic answered on TIME 8 of 36, was 29 at the fixed 0.25).
NULL_MARGIN = 0.08


def refusal_floor(probe_cosines: Sequence[float]) -> float:
    """The best-sentence cosine an answer must reach on this index to quote anything."""
    if not probe_cosines:
        return MIN_COSINE
    return max(MIN_COSINE, statistics.median(probe_cosines) + NULL_MARGIN)


def probe_floor(search: Callable[[str], Sequence[SearchHit]], embedder: Embedder) -> float:
    """refusal_floor over the best cosines the PROBES reach through `search` (the answer's)."""
    return refusal_floor([best_cosine(p, search(p), embedder) for p in PROBES])
