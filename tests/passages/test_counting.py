"""Word-piece counts without a full encode: always the tokenizer's own, and the same passages."""

from __future__ import annotations

import json
import random
import string
from dataclasses import replace

import pytest

from conftest import SEED_ARTICLE, SHARED_EVAL
from coverage_search.embed.embedder import Embedder, get_embedder
from coverage_search.passages import chunking
from coverage_search.passages.counting import WordPieceCounter, fast_counter
from coverage_search.sources.scan import read_document


@pytest.fixture(scope="module")
def tok() -> Embedder:
    """The bundled model's tokenizer (counting tokens does not load the model weights)."""
    return get_embedder()


def test_the_bundled_tokenizer_gets_the_fast_counter(tok: Embedder) -> None:
    assert isinstance(fast_counter(tok), WordPieceCounter)
    assert fast_counter(tok) is fast_counter(tok)  # one memo of words per tokenizer


def test_counts_equal_the_tokenizers_on_odd_text(tok: Embedder) -> None:
    rng = random.Random(7)
    alphabet = string.printable + "éü–’ß中[]\x00\x01\x7f"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))) for _ in range(800)]
    texts += [
        "",
        "   \n\t ",
        "x" * 100 + " " + "y" * 101,  # WordPiece reads a word over 100 characters as one [UNK]
        "before [SEP] and [sep] and a[MASK]b",  # added tokens are matched before normalizing
        "ab\x00cd ab\x7fcd",  # control characters vanish, joining the word around them
        "Don't re-use U.S. $5,000.00 (e.g. 3x faster!) #tags @user email@example.com",
        "CamelCase ALLCAPS mixedCASE résumé naïve",
    ]
    assert fast_counter(tok).count_tokens(texts) == tok.count_tokens(texts)


@pytest.mark.skipif(not (SHARED_EVAL / "scifact").is_dir(), reason="needs ../shared/eval")
def test_counts_equal_the_tokenizers_on_real_articles(tok: Embedder) -> None:
    texts = []
    for name in ("scifact", "time1963"):
        with (SHARED_EVAL / name / "corpus.jsonl").open(encoding="utf-8") as rows:
            for row in map(json.loads, rows):
                texts += [row.get("title", ""), *row["text"].split("\n")]
    counter = fast_counter(tok)
    assert sum(map(counter._plain, texts)) > len(texts) // 3  # the fast path is really taken
    assert counter.count_tokens(texts) == tok.count_tokens(texts)


def test_passages_are_those_of_the_full_encode(
    tok: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = [read_document(SEED_ARTICLE, SEED_ARTICLE.parent)]
    if (SHARED_EVAL / "time1963").is_dir():
        with (SHARED_EVAL / "time1963" / "corpus.jsonl").open(encoding="utf-8") as rows:
            for i, row in enumerate(map(json.loads, rows)):
                if i == 60:
                    break
                docs.append(replace(docs[0], doc_id=f"t{i}", text=row["text"], headings=()))
    fast = chunking.chunk_documents(docs, tok)
    monkeypatch.setattr(chunking, "fast_counter", lambda embedder: embedder)
    assert chunking.chunk_documents(docs, tok) == fast
