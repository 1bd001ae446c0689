"""The engine interface: what the query and build stages need from storage, and nothing more.

Fusion, keyword pruning, diversity and answers stay above this line, so every engine ranks
the same way; filters go in as `SearchFilters` and each engine applies them inside itself,
before its top-k cut.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.records import Document, Passage, RelatedLink, SearchFilters, StoryCopy

Ranked = list[tuple[int, float]]  # (passage id, score), best first; higher is better
# Bump when what a build stores changes, so the next build writes it although no file changed
# (2: document centroids, 3: abbreviations, 4: keyword text without marks inside words). Older
# builds still open: what they lack is left out of search.
CONTENT_VERSION = 4

# Invisible marks inside a word ("An\u00adthropic" from a web page's soft hyphen, a zero-width
# space pasted into a question) would cut it in two for keyword search: every engine indexes and
# searches words without them. Not U+200C, which keeps Persian and Indic morphemes apart, and
# not a zero-width space beside the letters of scripts written without spaces (Thai, Lao,
# Khmer, Myanmar, Tai), where it is the only mark between words.
INSIDE_WORDS = dict.fromkeys(map(ord, "\u00ad\u200d\u2060\ufeff"))
# Thai, Lao, Myanmar (and its extensions), Khmer (and its symbols), New Tai Lue, Tai Tham
_NO_SPACES = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u1980-\u19ff\u1a20-\u1aaf\ua9e0-\ua9ff\uaa60-\uaa7f"
)
_JOINING_ZWSP = re.compile(f"(?<![{_NO_SPACES}])\u200b(?![{_NO_SPACES}])")


def keyword_text(text: str) -> str:
    """`text` as keyword search reads it: the marks inside words gone."""
    if text.isascii():
        return text
    text = text.translate(INSIDE_WORDS)
    return _JOINING_ZWSP.sub("", text) if "\u200b" in text else text


@dataclass(frozen=True, slots=True)
class PassageRow:
    """A passage joined with its document, as search needs it."""

    id: int
    text: str
    heading: str | None
    start: int
    end: int
    page: int | None
    ordinal: int
    doc_id: str
    path: str
    title: str
    url: str | None
    outlet: str | None
    published: str | None
    author: str | None
    language: str | None
    related: tuple[RelatedLink, ...]
    story_id: str


@dataclass(frozen=True, slots=True)
class EngineFacts:
    """Counts, outlets, languages, date range and size of one build, for `stats`."""

    documents: int
    passages: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    earliest: str | None
    latest: str | None
    bytes: int
    location: str  # where the data lives: a folder, a Milvus Lite file or a server URI


@dataclass(frozen=True, slots=True)
class BuildContent:
    """Everything one build stores: documents, their passages (grouped) and passage vectors.

    `passages[i]` are the passages of `documents[i]` (empty for an exact copy, whose
    `indexed_as[i]` names the document whose passages stand for it); `vectors` has one row per
    passage in that flattened order; `story_ids` maps a doc id to its story.
    """

    documents: Sequence[Document]
    passages: Sequence[Sequence[Passage]]
    vectors: np.ndarray
    story_ids: dict[str, str]
    indexed_as: Sequence[int]
    stemming: bool
    fingerprint: str


class Engine(ABC):
    """Read access to one finished build. Safe to share across threads."""

    name: str

    @abstractmethod
    def keyword(self, terms: Sequence[str], filters: SearchFilters, *, limit: int) -> Ranked:
        """BM25 top `limit` passages holding any of `terms` (plain words, never syntax)."""

    @abstractmethod
    def dense(self, vector: np.ndarray, filters: SearchFilters, *, limit: int) -> Ranked:
        """The `limit` passages nearest to a unit `vector` (cosine), among those passing."""

    @abstractmethod
    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        """How many passages hold each term (as the engine analyzes it), and the passage count."""

    def held_terms(self, terms: Sequence[str]) -> list[bool]:
        """Whether any passage holds each term. An engine may count a rare term as 0 in
        term_docs (Milvus's side database keeps only terms in a share of the passages), so a
        zero is asked of the keyword index; an engine that can, asks for all of them at once."""
        docs, _ = self.term_docs(terms)
        return [
            n > 0 or bool(self.keyword([t], SearchFilters(), limit=1))
            for t, n in zip(terms, docs, strict=True)
        ]

    @abstractmethod
    def owners(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(doc id, story id) of each passage, keyed by passage id: what choosing hits needs
        of every candidate, before the full rows of the chosen few are read."""

    @abstractmethod
    def mean_cosines(self, doc_ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """The mean cosine of each document's passages with unit `vector` (its centroid's dot
        product): search's document prior. Only documents that hold passages have one (an exact
        copy's are its original's, as `owners` says); empty for a build that stores none."""

    @abstractmethod
    def abbreviations(self, shorts: Sequence[str]) -> dict[str, str]:
        """The long form the indexed documents give each of `shorts` that they define
        ("RSP" → "Responsible Scaling Policy"); empty for a build that stores none."""

    @abstractmethod
    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """Passage rows with their documents, keyed by passage id."""

    @abstractmethod
    def document(self, doc_id: str) -> Document | None:
        """A stored document with its text and metadata, or None."""

    @abstractmethod
    def documents_by_id(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """`document` of many: those stored, keyed by doc id."""

    @abstractmethod
    def matching_copies(self, doc_ids: Sequence[str], filters: SearchFilters) -> dict[str, str]:
        """For indexed documents that fail the filters, the exact copy of each that passes."""

    @abstractmethod
    def story_copies(self, story_ids: Sequence[str]) -> dict[str, list[StoryCopy]]:
        """Every document of each story, oldest first."""

    @abstractmethod
    def documents(self) -> list[tuple[str, str, str]]:
        """(doc_id, content_hash, story_id) of every document."""

    @abstractmethod
    def facts(self) -> EngineFacts:
        """Counts, outlets, languages, date range and size."""

    def warm_up(self) -> None:  # noqa: B027 - most engines have nothing to read ahead
        """Read ahead what the first search would otherwise wait for (an app calls it at open)."""

    def close(self) -> None:  # noqa: B027 - most engines hold nothing to close
        """Release what the engine holds open."""


class DocumentSource(ABC):
    """A build's stored documents alone, opened without its search indexes.

    The build cache takes unchanged documents back from the live build through it, so a
    build does not load the live build's vectors (gigabytes at a million passages) to scan.
    """

    @abstractmethod
    def documents_by_id(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """Stored documents (text and metadata, as `Engine.document` gives them) by doc id."""

    def close(self) -> None:  # noqa: B027
        """Release what the source holds open."""


class EngineWriter(ABC):
    """Writes one new build; the build stage calls `write` once, then `publish` or `discard`."""

    @abstractmethod
    def write(self, content: BuildContent) -> dict[str, Any]:
        """Store the build; returns what the manifest must record to open it again."""

    def publish(self, kept: Collection[Path]) -> None:  # noqa: B027 - folders switch themselves
        """Called once the build is live: drop what none of the `kept` build folders needs."""

    def discard(self) -> None:  # noqa: B027
        """Called when the build failed: remove what `write` made."""
