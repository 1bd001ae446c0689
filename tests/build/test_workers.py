"""Sketches and passages made on every core are those made in one process, in the same order."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from conftest import SEED_ARTICLE, SHARED_EVAL
from coverage_search.build import workers
from coverage_search.embed.embedder import Embedder, get_embedder
from coverage_search.passages import chunking, dedup
from coverage_search.passages.chunking import ChunkSettings
from coverage_search.records import Document
from coverage_search.sources import parallel
from coverage_search.sources.scan import read_document


@pytest.fixture(autouse=True)
def few_suffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)  # workers even for these few documents


@pytest.fixture(scope="module")
def tok() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    """The seed article, and TIME articles (real text, odd characters) when ../shared is there."""
    seed = read_document(SEED_ARTICLE, SEED_ARTICLE.parent)
    out = [seed]
    time_corpus = SHARED_EVAL / "time1963" / "corpus.jsonl"
    if time_corpus.is_file():
        with time_corpus.open(encoding="utf-8") as rows:
            for i, row in enumerate(map(json.loads, rows)):
                if i == 40:
                    break
                out.append(replace(seed, doc_id=f"time/{i}.md", text=row["text"], headings=()))
    out += [replace(seed, doc_id=f"copy/{i}.md", title=f"Copy {i}") for i in range(5)]
    return out


def test_passages_cut_in_workers_are_those_cut_here(tok: Embedder, docs: list[Document]) -> None:
    settings = ChunkSettings()
    here = chunking.chunk_documents(docs, tok, settings)
    copy = workers.tokenizer_copy(tok)
    assert copy is not None
    spread = workers.chunk_documents(docs, tok, settings, copy=copy, workers=2)
    assert [len(per_doc) for per_doc in spread] == [
        sum(p.doc_id == d.doc_id for p in here) for d in docs
    ]
    assert [p for per_doc in spread for p in per_doc] == here


def test_the_tokenizer_copy_counts_as_the_embedder(tok: Embedder, docs: list[Document]) -> None:
    copy = workers.tokenizer_copy(tok)
    assert copy is not None
    texts = [d.text[:2000] for d in docs]
    assert copy.count_tokens(texts) == tok.count_tokens(texts)
    assert copy.token_spans(docs[0].text[:500]) == tok.token_spans(docs[0].text[:500])
    assert (copy.max_seq_length, copy.special_tokens) == (tok.max_seq_length, tok.special_tokens)


def test_sketches_made_in_workers_are_those_made_here(docs: list[Document]) -> None:
    texts = [d.text for d in docs] + ["", "short text"]
    here = dedup.sketch_texts(texts)
    spread = workers.sketch_texts(texts, workers=2)
    assert len(spread) == len(here)
    for a, b in zip(spread, here, strict=True):
        assert a.normalized == b.normalized
        assert np.array_equal(a.shingles, b.shingles)
        assert (a.signature is None) == (b.signature is None)
        assert a.signature is None or np.array_equal(a.signature, b.signature)
