"""The focus features: topic words are the ones most top hits hold, the rest is what is asked."""

from __future__ import annotations

import pytest

from coverage_search import CoverageIndex
from coverage_search.query.answer import (
    ANSWER_DOCUMENT_PRIOR,
    ANSWER_PER_DOCUMENT,
    score_sentences,
)
from coverage_search.query.evidence import (
    FEATURES,
    WEIGHTS,
    focus_question,
    keyword_share,
    local_weights,
    question_weights,
    topic_stems,
)
from query.test_answer import seed_index  # noqa: F401 - the module's seed fixture, reused


def test_one_weight_per_feature() -> None:
    assert len(WEIGHTS) == len(FEATURES)


def test_a_soft_hyphen_inside_a_word_does_not_hide_it_from_the_sentence_features() -> None:
    weights = {"anthro": 1.0, "prices": 1.0}  # the features' six-letter stems
    assert keyword_share(weights, "An\u00adthropic raised prices.") == 1.0
    assert keyword_share(weights, "Anthro\u200bpic raised prices.") == 1.0
    assert keyword_share(weights, "Thropic raised prices.") == 0.5


def test_topic_words_are_dropped_from_the_focus_question(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    question = "How did OpenAI announce that Amodei was leaving?"
    # The hits the answer reads: no per-document cap and no document prior (api.answer).
    hits = seed_index.search(
        question, k=5, per_document=ANSWER_PER_DOCUMENT, document_prior=ANSWER_DOCUMENT_PRIOR
    )
    weights = question_weights(seed_index.engine, question)
    topic = topic_stems(weights, hits)
    focus = focus_question(question, topic)

    # Every passage of the article names OpenAI and Amodei: they say nothing about which one
    # answers, "announce" does.
    assert {"openai", "amodei"} <= topic
    assert "OpenAI" not in focus and "Amodei" not in focus
    assert "announce" in focus and focus.startswith("How did")
    local = local_weights(weights, hits)
    # A word held by all or all but one of the hits weighs little among them (which of the
    # small corpus' passages comes fifth differs between CPUs' int8 kernels).
    assert local["openai"] <= 0.2 * weights["openai"] + 1e-12
    assert local["announ"] > local["openai"]


@pytest.mark.parametrize(
    "question",
    ["Amodei OpenAI?", "?!", "   ", "ｆｕｌｌｗｉｄｔｈ Amodei", "a" * 300, "Amodei\u0000OpenAI"],
)
def test_focus_question_never_comes_back_empty(question: str) -> None:
    focus = focus_question(question, {"amodei", "openai"})
    assert focus.strip() or not question.strip()
    assert focus == question or set(focus.split()) <= set(question.split())


def test_features_of_a_real_answer_have_one_value_per_feature(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    question = "Which hazardous areas does the responsible-use rulebook specifically mention?"
    hits = seed_index.search(
        question, k=5, per_document=ANSWER_PER_DOCUMENT, document_prior=ANSWER_DOCUMENT_PRIOR
    )
    scored, _ = score_sentences(
        question, hits, seed_index.embedder, question_weights(seed_index.engine, question)
    )
    assert scored
    for s in scored:
        assert len(s.features) == len(FEATURES)
        named = dict(zip(FEATURES, s.features, strict=True))
        assert named["focus_gap"] <= 0.0 and -1.0 <= named["focus_cosine"] <= 1.0
