"""Dedup sketches and passages of many documents on every core: same results, same order."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coverage_search.embed.embedder import count_pieces, piece_spans
from coverage_search.passages import chunking, dedup
from coverage_search.passages.chunking import ChunkSettings, TokenCounter
from coverage_search.records import Document, Passage
from coverage_search.sources.parallel import Pool, using

_DOCS_PER_TASK = 256  # documents a worker cuts per task: the tokenizer travels with each task


def _always(_: object) -> bool:
    return True


def _sketch(text: str) -> dedup.Sketch:
    return dedup.sketch_texts([text])[0]


def sketch_texts(
    texts: Sequence[str], *, pool: Pool | None = None, workers: int | None = None
) -> list[dedup.Sketch]:
    """`dedup.sketch_texts`, spread over the cores (`pool`'s, or its own) for a large corpus."""
    with using(pool, workers) as spread:
        if not spread.parallel(len(texts)):
            return dedup.sketch_texts(texts)
        made = spread.map_in_order(_sketch, texts, _always, count=len(texts))
        return [s for _, s in made if s is not None]


@dataclass(frozen=True)
class TokenizerCopy:
    """What chunking needs of an embedder, picklable: its tokenizer (as JSON) and its window.

    Counts and spans are the tokenizer's own, so a worker cuts what the embedder would.
    """

    config: str
    max_seq_length: int
    special_tokens: int

    @property
    def tokenizer(self) -> Any:
        return _tokenizer(self.config)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return count_pieces(self.tokenizer, texts)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return piece_spans(self.tokenizer, text)


@functools.lru_cache(maxsize=2)
def _tokenizer(config: str) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(config)
    tok.no_truncation()
    tok.no_padding()
    return tok


def _cut(task: tuple[TokenizerCopy, ChunkSettings, list[Document]]) -> list[list[Passage]]:
    counter, settings, docs = task
    made = chunking.chunk_documents(docs, counter, settings)
    by_doc: dict[str, list[Passage]] = {}
    for p in made:
        by_doc.setdefault(p.doc_id, []).append(p)
    return [by_doc.get(d.doc_id, []) for d in docs]


def chunk_documents(
    docs: Sequence[Document],
    embedder: TokenCounter,
    settings: ChunkSettings,
    *,
    copy: TokenizerCopy | None,
    pool: Pool | None = None,
    workers: int | None = None,
) -> list[list[Passage]]:
    """The passages of each document, cut on every core when the tokenizer can be copied."""
    with using(pool, workers) as spread:
        if copy is None or not spread.parallel(len(docs)):
            return _cut((embedder, settings, list(docs)))  # type: ignore[arg-type]
        step = _DOCS_PER_TASK
        tasks = [(copy, settings, list(docs[i : i + step])) for i in range(0, len(docs), step)]
        # A task is already a batch of documents: one a task, a few tasks in flight.
        made = spread.map_in_order(
            _cut, tasks, _always, count=len(docs), batch=1, window=2 * spread.workers
        )
        return [per_doc for _, result in made if result is not None for per_doc in result]


def tokenizer_copy(embedder: TokenCounter) -> TokenizerCopy | None:
    """A picklable copy of the embedder's tokenizer, or None when it has no `tokenizers` one."""
    tok: Any = getattr(embedder, "tokenizer", None)
    if not callable(getattr(tok, "to_str", None)):
        return None
    return TokenizerCopy(str(tok.to_str()), embedder.max_seq_length, embedder.special_tokens)
