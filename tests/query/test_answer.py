"""Extractive answers: verbatim sentences, consistent [n] citations, sentence links, refusals."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from conftest import SEED_ARTICLE, SMALL_CORPUS, write_doc
from coverage_search import CoverageIndex
from coverage_search.passages.chunking import split_sentences
from coverage_search.query.answer import (
    ANSWER_DOCUMENT_PRIOR,
    ANSWER_HITS,
    ANSWER_POOL,
    NOT_FOUND,
    answer_from_hits,
    answer_pool,
    no_results_message,
)
from coverage_search.query.settings import SearchSettings
from coverage_search.records import SearchFilters, SearchHit


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> CoverageIndex:  # type: ignore[no-untyped-def]
    """The real seed article, plus a syndicated copy of one of its paragraphs, indexed once."""
    root = tmp_path_factory.mktemp("seed")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_ARTICLE, corpus / SEED_ARTICLE.name)
    for name, (body, meta) in SMALL_CORPUS.items():
        write_doc(corpus, name, body, **meta)
    CoverageIndex.build(corpus, root / "index", progress=False)
    return CoverageIndex.open(root / "index")


def test_answer_quotes_whole_sentences_of_the_cited_hit(seed_index: CoverageIndex) -> None:
    answer = seed_index.answer("What is Anthropic's Responsible Scaling Policy?")

    assert answer.found
    assert 2 <= len(answer.sentences) <= 4
    for citation in answer.sentences:
        hit = answer.hits[citation.number - 1]  # [n] is hit n of the list shown below it
        assert citation.hit_rank == hit.rank
        assert citation.sentence in hit.text  # verbatim
        # Whole sentences: one, or one opening on a pronoun with the sentence before it.
        spans = [hit.text[a:b].strip() for a, b in split_sentences(hit.text)]
        assert any(citation.sentence.startswith(s) for s in spans)
        assert any(citation.sentence.endswith(s) for s in spans)
    # The best passage's sentences come first, in the passage's own order.
    assert any("Responsible Scaling Policy" in c.sentence for c in answer.sentences[:2])
    assert answer.text.endswith(f"[{answer.sentences[-1].number}]")


def test_citation_link_targets_that_very_sentence(seed_index: CoverageIndex) -> None:
    answer = seed_index.answer("When did OpenAI announce that Amodei was leaving?")

    assert answer.found
    first = answer.sentences[0]
    hit = answer.hits[first.number - 1]
    assert "December 29, 2020" in first.sentence
    assert first.link.startswith(f"{hit.url}#:~:text=")
    fragment = unquote(first.link.split("#:~:text=", 1)[1])
    assert fragment.split(",")[0].strip() in first.sentence
    assert first.link != hit.link  # the passage link covers the passage, not this sentence


def test_off_topic_questions_are_refused_not_answered_with_noise(seed_index: CoverageIndex) -> None:
    # (Not "best pizza in Naples": this corpus has a tomato-sauce recipe, which is near enough.)
    for question in ("What is the boiling point of tungsten?", "Who won the 1998 World Cup?"):
        answer = seed_index.answer(question)
        assert not answer.found, question
        assert answer.sentences == ()
        # The World Cup question also hears which of its names the coverage never mentions.
        assert answer.message.endswith(NOT_FOUND)
        assert answer.hits  # the passages are still there to look at


def test_near_repeats_are_quoted_once(seed_index: CoverageIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    hits = seed_index.search("Why did Dario Amodei leave OpenAI?", k=4)
    doubled = [*hits, *hits]  # the same sentences reached through two hits
    answer = answer_from_hits("Why did Dario Amodei leave OpenAI?", doubled, embedder)

    quoted = [c.sentence for c in answer.sentences]
    assert len(quoted) == len(set(quoted)) >= 2
    assert all(c.number <= len(hits) for c in answer.sentences)  # the first copy is cited


def test_sentences_of_one_hit_keep_their_order(seed_index: CoverageIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    hits = seed_index.search("Anthropic safety scaling OpenAI", k=1)
    answer = answer_from_hits(
        "Why did Anthropic split from OpenAI over scaling and safety?",
        hits,
        embedder,
        min_cosine=0.0,
    )
    positions = [hits[0].text.index(c.sentence) for c in answer.sentences]
    assert positions == sorted(positions)
    assert {c.number for c in answer.sentences} == {1}


def test_no_hits_says_which_filter_to_relax(seed_index: CoverageIndex) -> None:
    answer = seed_index.answer("tokenized shares", outlets=["Axios"], since="2027-01-01")

    assert not answer.found and answer.hits == ()
    assert "outlet filter (Axios)" in answer.message
    assert "date range (2027-01-01" in answer.message
    assert "filters" not in no_results_message(None)
    assert "language filter (fr)" in no_results_message(SearchFilters(language="fr"))


def test_answer_to_dict_is_json_ready(seed_index: CoverageIndex) -> None:
    import json

    data = json.loads(json.dumps(seed_index.answer("tokenized pre-IPO shares").to_dict()))
    assert data["found"] is True
    assert data["text"].count("[") == len(data["sentences"])
    assert data["hits"][0]["rank"] == 1


def test_untitled_plain_file_without_url_links_to_its_corpus_file(
    tmp_path: Path,
    build_index,  # type: ignore[no-untyped-def]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "memo.txt").write_text(
        "Internal memo.\n\nThe board approved the Responsible Scaling Policy update in May. "
        "It adds new safeguards for biological misuse.\n",
        encoding="utf-8",
    )
    index = CoverageIndex.open(build_index(corpus))
    answer = index.answer("When was the Responsible Scaling Policy update approved?")

    assert answer.found
    assert "memo.txt" in answer.sentences[0].link
    assert not answer.sentences[0].link.startswith(("http:", "https:", "javascript:"))


def test_cli_ask_prints_the_answer_then_numbered_sources(
    seed_index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from coverage_search.cli import main

    index_dir = str(seed_index.index_dir)
    question = "What is Anthropic's Responsible Scaling Policy?"
    assert main(["ask", question, "--index", index_dir]) == 0
    out = capsys.readouterr().out
    answer, sources = out.split("\nSources:\n")
    assert "Responsible Scaling Policy" in answer and "[1]" in answer
    assert sources.startswith("[1] Dario Amodei’s OpenAI Exit")
    assert "WindowsForum, 2026-06-16" in sources and "#:~:text=" in sources

    argv = ["ask", "boiling point of tungsten", "--index", index_dir, "-k", "2", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is False and data["message"] == NOT_FOUND and len(data["hits"]) == 2
    assert main(argv[:-1]) == 0  # as text: the passages are not called sources of an answer
    refused = capsys.readouterr().out
    assert "\nClosest passages (none answers):\n[1] " in refused and "Sources:" not in refused

    assert main(["ask", "   ", "--index", index_dir]) == 2
    assert "Type a question" in capsys.readouterr().err


def test_only_the_first_hits_are_quoted(seed_index: CoverageIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    from coverage_search.query.answer import ANSWER_HITS

    question = "What is Anthropic's Responsible Scaling Policy?"
    best = seed_index.search(question, k=1)
    filler = seed_index.search("tomato sauce with garlic and basil", k=1)
    answer = answer_from_hits(question, filler * ANSWER_HITS + best, embedder)

    assert all(c.number <= ANSWER_HITS for c in answer.sentences)
    assert not answer.found
    assert answer_from_hits(question, best + filler * ANSWER_HITS, embedder).found


def _hit(rank: int, doc_id: str) -> SearchHit:
    return SearchHit(
        rank=rank, score=1.0 / rank, text=f"Passage {rank} of {doc_id}.", passage_id=rank,
        doc_id=doc_id, title=doc_id, outlet=None, published=None, author=None, url=None,
        language="en", heading=None, start=0, end=10, page=None, link="",
    )  # fmt: skip


def test_the_pool_adds_later_passages_only_of_the_story_most_hits_come_from() -> None:
    docs = ["a", "b", "a", "a", "c"] + ["b", "a", "c", "a"] + ["a"] * 10
    hits = [_hit(i + 1, d) for i, d in enumerate(docs)]
    # "a" holds 3 of the first 5: its passages at ranks 7, 9 and 10 join; b and c do not.
    assert ANSWER_HITS == 5 and ANSWER_POOL == 10
    assert answer_pool(hits) == (*hits[:5], hits[6], hits[8], hits[9])
    # No document holds most of the first five: a cross-story question reads just those.
    mixed = [_hit(i + 1, d) for i, d in enumerate(["a", "b", "c", "a", "b", "a", "a"])]
    assert answer_pool(mixed) == tuple(mixed[:ANSWER_HITS])


def test_an_answer_shows_k_hits_and_reads_the_rest_of_the_story(seed_index: CoverageIndex) -> None:
    question = "When did Anthropic caution that unapproved token sales were invalid?"
    answer = seed_index.answer(question, k=3)
    assert answer.found
    cited = max(c.number for c in answer.sentences)
    assert len(answer.hits) == max(3, cited)  # k hits, more only to keep a cited one
    for c in answer.sentences:
        assert c.sentence in answer.hits[c.number - 1].text
    # The answer read further than the first five hits (all the rule before read): the
    # sentence that answers is in none of them, and it is quoted.
    span = "In May 2026, Anthropic warned"
    searched = seed_index.search(question, k=ANSWER_HITS, per_document=0)
    assert not any(span in h.text for h in searched)
    assert any(span in c.sentence for c in answer.sentences)


def test_citations_point_at_their_passage_when_another_story_sits_inside_the_pool(
    seed_index: CoverageIndex,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    question = "When did Anthropic caution that unapproved token sales were invalid?"
    found = seed_index.search(question, k=ANSWER_POOL, per_document=0)
    span = "In May 2026, Anthropic warned"
    article = [h for h in found if h.doc_id == SEED_ARTICLE.name and span not in h.text]
    answering = next(h for h in seed_index.search(question, k=20) if span in h.text)
    other = next(h for h in seed_index.search("tomato sauce", k=3) if h.doc_id != SEED_ARTICLE.name)
    # Another story at rank 6, the passage that answers after it: the pool skips rank 6.
    hits = [*article[:5], other, answering, *article[5:8]]
    answer = answer_from_hits(question, hits, embedder, show=3)
    assert answer.found
    assert other not in answer.hits  # read after the article's passages, and not cited
    for c in answer.sentences:
        shown = answer.hits[c.number - 1]
        assert c.sentence in shown.text and c.hit_rank == shown.rank
    assert any(span in c.sentence for c in answer.sentences)


def test_a_cited_passage_below_k_is_still_listed(seed_index: CoverageIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    question = "Why did Dario Amodei leave OpenAI?"
    hits = seed_index.search(question, k=ANSWER_POOL, per_document=0)
    answer = answer_from_hits(question, hits, embedder, show=1)
    cited = max(c.number for c in answer.sentences)
    assert cited > 1 and len(answer.hits) == cited  # one asked for, every cited one kept


def test_no_hits_still_says_how_it_searched(seed_index: CoverageIndex) -> None:
    answer = seed_index.answer("the ChatGPT maker", outlets=["No Such Outlet"])
    assert not answer.found and answer.searched_as == "OpenAI"
    assert answer.to_dict()["searched_as"] == "OpenAI"


def test_a_sentence_opening_on_a_pronoun_is_quoted_with_the_one_it_refers_to(
    seed_index: CoverageIndex,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    from coverage_search.query.answer import _with_antecedents, score_sentences

    it = "It was that scaling was real enough to be dangerous."
    before = "Amodei’s disagreement with OpenAI was not that scaling was fake."
    found = seed_index.search("scaling real enough to be dangerous", k=10)
    hit = next(h for h in found if it in h.text)
    scored, _ = score_sentences("Was scaling dangerous?", [hit], embedder, {})
    pronoun = next(s for s in scored if s.sentence == it)
    antecedent = next(s for s in scored if s.sentence == before)

    (quoted,) = _with_antecedents([pronoun], scored, [hit])
    assert quoted.sentence == f"{before} {it}" and quoted.sentence in hit.text
    assert quoted.score == pronoun.score  # still the pronoun sentence's score and features
    # The sentence before is quoted already: nothing is repeated.
    assert [s.sentence for s in _with_antecedents([antecedent, pronoun], scored, [hit])] == [
        before,
        it,
    ]
    # A sentence that names its subject stands alone.
    assert _with_antecedents([antecedent], scored, [hit]) == [antecedent]


def test_answers_and_their_refusal_bar_search_without_the_document_prior(
    seed_index: CoverageIndex,
) -> None:
    """The combiner's weights were fitted on hits ranked without the prior (ANSWER_DOCUMENT_PRIOR),
    whatever the index's own search setting."""
    index = CoverageIndex.open(seed_index.index_dir, settings=SearchSettings(document_prior=1.0))
    seen: list[float] = []
    real = index._searcher.search

    def recording(*args: Any, **kwargs: Any) -> list[SearchHit]:
        seen.append(kwargs["settings"].document_prior)
        return real(*args, **kwargs)

    index._searcher.search = recording  # type: ignore[method-assign]
    try:
        index.search("Why did Dario Amodei leave OpenAI?")
        assert seen == [1.0]
        seen.clear()
        assert index.answer("Why did Dario Amodei leave OpenAI?").found
        assert len(seen) > 1  # the refusal bar's probes, then the question
        assert set(seen) == {ANSWER_DOCUMENT_PRIOR} == {0.0}
    finally:
        index.close()
