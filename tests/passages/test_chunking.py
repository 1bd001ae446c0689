"""Passages: exact spans, whole sentences within one section, never longer than the model reads."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence

import pytest

from conftest import REPO
from coverage_search.embed.embedder import Embedder, get_embedder
from coverage_search.passages.chunking import (
    ChunkSettings,
    chunk_document,
    chunk_documents,
    split_sentences,
)
from coverage_search.passages.packing import CAPTION, paragraphs
from coverage_search.records import Document, Passage
from coverage_search.sources.scan import read_document, scan_corpus

SEED = REPO / "corpus" / "windowsforum-amodei-openai-exit.md"
SCIFACT = REPO.parent / "shared" / "eval" / "scifact" / "corpus.jsonl"


@pytest.fixture(scope="module")
def tok() -> Embedder:
    """The bundled model's tokenizer (counting tokens does not load the model weights)."""
    return get_embedder()


def make_doc(
    text: str,
    *,
    title: str = "A title",
    headings: tuple[tuple[int, int, str], ...] = (),
    page_starts: tuple[int, ...] = (),
) -> Document:
    return Document(
        doc_id="doc.md",
        path="doc.md",
        title=title,
        text=text,
        format="markdown",
        content_hash="0",
        headings=headings,
        page_starts=page_starts,
    )


def headed(*blocks: str) -> Document:
    """A document from blocks; blocks starting with '#' are headings (level = number of #)."""
    text, heads = "", []
    for block in blocks:
        if text:
            text += "\n\n"
        if block.startswith("#"):
            marks, name = block.split(" ", 1)
            heads.append((len(text), len(marks), name))
            block = name
        text += block
    return make_doc(text, headings=tuple(heads))


def assert_sound(doc: Document, passages: Sequence[Passage], tok: Embedder) -> None:
    """Every promise a passage makes, checked against the document and the real tokenizer."""
    window = tok.max_seq_length - tok.special_tokens
    counts = tok.count_tokens([p.embed_text for p in passages])
    assert max(counts, default=0) <= window
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    starts = [p.start for p in passages]
    assert starts == sorted(set(starts))
    heading_lines = {h[0] for h in doc.headings}
    covered = bytearray(len(doc.text))
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.text and p.text == p.text.strip()
        assert p.embed_text.endswith(p.text)
        assert p.page == doc.page_at(p.start)
        assert p.doc_id == doc.doc_id
        inside = [h for h in heading_lines if p.start < h < p.end]
        assert not inside, "a passage crosses a heading"
        covered[p.start : p.end] = b"\1" * (p.end - p.start)
    # No text is lost: every visible character is in a passage (heading lines aside,
    # when their section has a body).
    for offset, _, _ in doc.headings:
        line_end = doc.text.find("\n", offset)
        line_end = len(doc.text) if line_end < 0 else line_end
        if any(p.start == offset for p in passages):
            continue
        covered[offset:line_end] = b"\1" * (line_end - offset)
    # Image captions are left out of passages on purpose (they stay in the document text).
    for a, b in caption_paragraphs(doc.text):
        covered[a:b] = b"\1" * (b - a)
    lost = [i for i, ch in enumerate(doc.text) if not covered[i] and not ch.isspace()]
    assert not lost, f"text outside every passage: {doc.text[lost[0] : lost[0] + 40]!r}"


def caption_paragraphs(text: str) -> list[tuple[int, int]]:
    kept = set(paragraphs(text, 0, len(text)))
    everything = [m.span() for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text)]
    return [(a, b) for a, b in everything if (a, b) not in kept and CAPTION.match(text, a, b)]


# -- sentences ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Amodei left OpenAI in Dec. 2020. He testified at a U.S. Senate hearing.",
            ["Dr. Amodei left OpenAI in Dec. 2020.", "He testified at a U.S. Senate hearing."],
        ),
        (
            "Revenue grew 2.5 times, e.g. in Europe. It did not stop there.",
            ["Revenue grew 2.5 times, e.g. in Europe.", "It did not stop there."],
        ),
        ("Wait... What? Really! yes.", ["Wait...", "What?", "Really! yes."]),
        ("Then… Silence. And... more.", ["Then…", "Silence.", "And... more."]),
        ('He said "go." She said “stop.” Done', ['He said "go."', "She said “stop.”", "Done"]),
        ("(See Fig. 2.) Next one.", ["(See Fig. 2.)", "Next one."]),
        ("J. R. R. Tolkien wrote it. The end.", ["J. R. R. Tolkien wrote it.", "The end."]),
        (
            "Items:\n- one\n- two\n1. First. 2. Second.",
            ["Items:", "- one", "- two", "1. First.", "2. Second."],
        ),
        ("A hard-wrapped\nline goes on. Next.", ["A hard-wrapped\nline goes on.", "Next."]),
        ("Para one\n\nPara two", ["Para one", "Para two"]),
        ("人工智能很重要。第二句！第三句？ok", ["人工智能很重要。", "第二句！", "第三句？", "ok"]),
        ("  \n\t ", []),
    ],
)
def test_sentences_split_at_real_boundaries_only(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in split_sentences(text)] == expected


def test_sentence_spans_cover_a_slice_with_absolute_offsets() -> None:
    text = "Intro. Skip this. Keep one. Keep two."
    start = text.index("Keep")
    assert [text[a:b] for a, b in split_sentences(text, start, len(text))] == [
        "Keep one.",
        "Keep two.",
    ]


# -- the real article ---------------------------------------------------------------------


def test_seed_article_passages_are_exact_sections_within_the_limit(tok: Embedder) -> None:
    doc = read_document(SEED, SEED.parent)
    passages = chunk_document(doc, tok)
    assert_sound(doc, passages, tok)
    assert len(passages) >= 20
    # Each passage carries the heading of the section it sits in.
    for p in passages:
        owner = [h for h in doc.headings if h[0] <= p.start][-1]
        assert p.heading == owner[2]
    # Passages are whole sentences: each ends where a sentence ends.
    assert all(re.search(r"[.!?…”\"’)*]$", p.text) for p in passages)
    # Passages are packed towards the target, not cut tiny: whole paragraphs are packed while
    # they fit 160 word pieces, so two 90-piece paragraphs stay apart (median about 100).
    sizes = tok.count_tokens([p.text for p in passages])
    assert max(sizes) <= 254
    assert sorted(sizes)[len(sizes) // 2] >= 90
    # Consecutive passages of a section meet at a paragraph break, or share one sentence of
    # overlap where a paragraph longer than the window was cut.
    same = [(a, b) for a, b in itertools.pairwise(passages) if a.heading == b.heading]
    assert same and all(b.start < a.end or "\n\n" in doc.text[a.end : b.start] for a, b in same)
    # The embedded text names the article and the section; the shown text does not.
    second = passages[1]
    assert second.embed_text == f"{doc.title}.\n{second.heading}.\n{second.text}"
    assert chunk_document(doc, tok) == passages  # deterministic


def test_every_passage_of_the_corpus_fits_the_model(tok: Embedder) -> None:
    docs = [d for d in scan_corpus(REPO / "corpus") if isinstance(d, Document)]
    assert docs
    passages = chunk_documents(docs, tok, ChunkSettings())
    counts = tok.count_tokens([p.embed_text for p in passages])
    assert all(n + tok.special_tokens <= tok.max_seq_length for n in counts)
    by_id = {d.doc_id: d for d in docs}
    assert all(by_id[p.doc_id].text[p.start : p.end] == p.text for p in passages)


# -- hostile documents --------------------------------------------------------------------

HOSTILE = {
    "run-on sentence": make_doc("word " * 4000),
    "one 5,000-character word": make_doc("a" * 5000),
    "5,000 CJK characters with no space": make_doc("中" * 5000),
    "long dashed token": make_doc("-".join(["abc"] * 3000)),
    "emoji and CJK": make_doc(
        "🚀🔥 Launch day! 人工智能的安全性很重要。第二句话在这里。 Ça va? 😀 " * 60
    ),
    "control characters": make_doc("\x00\x01" + "word " * 400 + "\x02\x7f"),
    "carriage returns and tabs": make_doc("First\tline\r\nsecond line.\r\n\r\nThird\tpara. " * 40),
    "very long title": make_doc("Short body sentence. " * 30, title="Very long title " * 500),
    "only headings": headed("# Alpha", "## Beta", "## Gamma"),
    "heading with no body between sections": headed("# Top", "## Empty", "## Full", "Body text."),
    "empty": make_doc(""),
    "whitespace": make_doc(" \n\n\t \r\n"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_give_exact_passages_within_the_limit(tok: Embedder, name: str) -> None:
    doc = HOSTILE[name]
    passages = chunk_document(doc, tok)
    assert_sound(doc, passages, tok)
    assert bool(passages) == bool(doc.text.strip())


def test_a_sentence_longer_than_the_model_reads_is_cut_at_spaces(tok: Embedder) -> None:
    doc = HOSTILE["run-on sentence"]
    passages = chunk_document(doc, tok)
    assert len(passages) > 10
    assert all(p.text.startswith("word") and p.text.endswith("word") for p in passages)


def test_a_document_of_only_headings_stays_searchable(tok: Embedder) -> None:
    passages = chunk_document(HOSTILE["only headings"], tok)
    assert [(p.text, p.heading) for p in passages] == [
        ("Alpha", "Alpha"),
        ("Beta", "Beta"),
        ("Gamma", "Gamma"),
    ]
    # The heading is the passage text, so it is not repeated as context; its parent is.
    assert passages[0].embed_text == "A title.\nAlpha"
    assert passages[1].embed_text == "A title.\nAlpha.\nBeta"


def test_a_long_title_is_shortened_in_the_prefix_never_in_the_text(tok: Embedder) -> None:
    doc = HOSTILE["very long title"]
    (passage,) = chunk_document(doc, tok)
    assert passage.text == doc.text.strip()
    prefix = passage.embed_text[: -len(passage.text)]
    assert prefix.startswith("Very long title")
    assert tok.count_tokens([prefix])[0] <= (tok.max_seq_length - tok.special_tokens) // 4


# -- settings -----------------------------------------------------------------------------


def test_context_setting_chooses_what_precedes_the_text(tok: Embedder) -> None:
    doc = headed("# Section one", "Alpha is here. Beta is there.")
    none, heading, both = (
        chunk_document(doc, tok, ChunkSettings(context=c))[0]
        for c in ("none", "heading", "title+heading")
    )
    assert none.embed_text == "Alpha is here. Beta is there."
    assert heading.embed_text == "Section one.\nAlpha is here. Beta is there."
    assert both.embed_text == "A title.\nSection one.\nAlpha is here. Beta is there."


def test_overlap_repeats_the_last_sentence_and_can_be_turned_off(tok: Embedder) -> None:
    sentences = [f"Sentence number {i} talks about topic {i} at some length." for i in range(12)]
    doc = make_doc(" ".join(sentences))
    small = ChunkSettings(target_tokens=40, paragraphs=False)
    overlapped = chunk_document(doc, tok, small)
    assert len(overlapped) > 2
    for a, b in itertools.pairwise(overlapped):
        last_of_a = split_sentences(a.text)[-1]
        assert b.text.startswith(a.text[last_of_a[0] : last_of_a[1]])
    plain = chunk_document(
        doc, tok, ChunkSettings(target_tokens=40, overlap_sentences=0, paragraphs=False)
    )
    assert all(a.end < b.start for a, b in itertools.pairwise(plain))
    assert " ".join(p.text for p in plain) == doc.text


def test_passages_follow_paragraphs(tok: Embedder) -> None:
    short = ["A short paragraph about Anthropic.", "Another short one about OpenAI."]
    fits = " ".join(f"Sentence {i} of a paragraph that fits the window whole." for i in range(12))
    long = " ".join(f"Sentence {i} of a paragraph far longer than the window." for i in range(40))
    caption = "*Image: A futuristic train platform at dusk.*"
    doc = make_doc("\n\n".join([*short, caption, fits, long]))
    passages = chunk_document(doc, tok, ChunkSettings(target_tokens=40, paragraph_whole="window"))
    texts = [p.text for p in passages]
    assert texts[0] == "A short paragraph about Anthropic.\n\nAnother short one about OpenAI."
    assert fits in texts  # 150 word pieces: over the target, under the window, never split
    assert not any("train platform" in t for t in texts)  # captions stay out of passages
    pieces = [t for t in texts if "far longer" in t]
    assert len(pieces) > 2 and all(len(tok.count_tokens([t])) for t in pieces)
    for a, b in itertools.pairwise(pieces):  # an over-long paragraph overlaps by a sentence
        last = split_sentences(a)[-1]
        assert b.startswith(a[last[0] : last[1]])
    # By default a paragraph over the target is cut too, as the sentence packer would.
    default = [p.text for p in chunk_document(doc, tok, ChunkSettings(target_tokens=40))]
    assert fits not in default and any(
        t.startswith("Sentence 0 of a paragraph that") for t in default
    )
    assert default[0] == texts[0]


def test_a_giant_word_is_cut_into_small_passages(tok: Embedder) -> None:
    doc = make_doc("Before the blob.\n\n" + "x" * 200_000 + "\n\nAfter the blob.")
    passages = chunk_document(doc, tok)
    assert max(len(p.text) for p in passages) <= 3_000
    assert passages[0].text == "Before the blob." and passages[-1].text == "After the blob."
    assert sum(len(p.text) for p in passages[1:-1]) == 200_000  # every x is in one passage


def test_settings_are_recorded_and_checked() -> None:
    assert ChunkSettings().to_dict() == {
        "target_tokens": 160,
        "overlap_sentences": 1,
        "context": "title+heading",
        "paragraphs": True,
        "paragraph_whole": "target",
        "version": 4,
    }
    for bad in ({"target_tokens": 0}, {"overlap_sentences": -1}, {"context": "everything"}):
        with pytest.raises(ValueError):
            ChunkSettings(**bad)  # type: ignore[arg-type]


def test_pdf_passages_know_their_page(tok: Embedder) -> None:
    pages = ["Page one says hello. " * 20, "Page two says more. " * 20, "Last page ends it. " * 10]
    text = "\n\n".join(pages)
    starts = (0, len(pages[0]) + 2, len(pages[0]) + len(pages[1]) + 4)
    doc = make_doc(text, page_starts=starts)
    passages = chunk_document(doc, tok, ChunkSettings(target_tokens=60))
    assert_sound(doc, passages, tok)
    assert {p.page for p in passages} == {1, 2, 3}


def test_batched_chunking_equals_one_document_at_a_time(tok: Embedder) -> None:
    docs = [HOSTILE["emoji and CJK"], read_document(SEED, SEED.parent), HOSTILE["only headings"]]
    assert chunk_documents(docs, tok, ChunkSettings()) == [
        p for d in docs for p in chunk_document(d, tok)
    ]


class SkewedCounter:
    """The real tokenizer with counts that do not add up: longer texts cost extra tokens."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.max_seq_length = inner.max_seq_length
        self.special_tokens = inner.special_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [n + n * n // 400 for n in self.inner.count_tokens(texts)]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.inner.token_spans(text)


def test_the_limit_holds_even_when_token_counts_do_not_add_up(tok: Embedder) -> None:
    skewed = SkewedCounter(tok)
    window = tok.max_seq_length - tok.special_tokens
    for doc in (read_document(SEED, SEED.parent), HOSTILE["run-on sentence"]):
        passages = chunk_document(doc, skewed, ChunkSettings(target_tokens=230))
        assert max(skewed.count_tokens([p.embed_text for p in passages])) <= window
        assert all(doc.text[p.start : p.end] == p.text for p in passages)


@pytest.mark.eval
@pytest.mark.skipif(not SCIFACT.is_file(), reason="needs ../shared/eval/scifact")
def test_scifact_abstracts_chunk_to_fit_the_model_window(tok: Embedder) -> None:
    rows = [json.loads(line) for line in SCIFACT.read_text(encoding="utf-8").splitlines()]
    docs = [
        Document(
            doc_id=r["id"],
            path=r["id"],
            title=r["title"],
            text=r["text"],
            format="text",
            content_hash="0",
        )
        for r in rows
    ]
    passages = chunk_documents(docs, tok, ChunkSettings())  # its speed: bench/phases.py
    assert len(passages) > len(docs)
    counts = tok.count_tokens([p.embed_text for p in passages])
    assert max(counts) + tok.special_tokens <= tok.max_seq_length


@pytest.mark.eval
def test_one_paragraph_documents_get_the_sentence_packers_passages(tok: Embedder) -> None:
    """Why the BEIR figures did not move when passages began to follow paragraphs."""
    if not SCIFACT.is_file():
        pytest.skip("../shared/eval is not here")
    from coverage_search.evaluation import load_beir_folder

    data = load_beir_folder(SCIFACT.parent)
    docs = [
        Document(doc_id=i, path=i, title=t, text=" ".join(x.split()), format="text", content_hash=i)
        for i, (t, x) in list(data.corpus.items())[:300]
    ]

    def spans(settings: ChunkSettings) -> list[tuple[str, int, int]]:
        return [(p.doc_id, p.start, p.end) for p in chunk_documents(docs, tok, settings)]

    assert spans(ChunkSettings()) == spans(ChunkSettings(paragraphs=False))
