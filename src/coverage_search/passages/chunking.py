"""Document → passages: whole sentences within one section, sized by the model's own tokenizer."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from coverage_search.passages.counting import fast_counter
from coverage_search.passages.packing import (
    MAX_PASSAGE_CHARS,
    TokenCounter,
    pack,
    paragraphs,
    pieces,
    truncate,
)
from coverage_search.passages.sentences import split_sentences, strip_span
from coverage_search.records import Document, Passage
from coverage_search.sources.reading import visible

__all__ = [
    "ChunkSettings",
    "TokenCounter",
    "chunk_document",
    "chunk_documents",
    "split_sentences",
]

# Bump when the way passages are cut changes, so an index knows its passages are stale.
CHUNKER_VERSION = 4  # 4: past MAX_SECTIONS headings, only the shallowest levels that fit cut
CONTEXTS = ("title+heading", "heading", "none")

_PREFIX_SHARE = 4  # the context prefix may use at most 1/4 of the model's window
# Every section is at least one passage: a file of 100,000 headings (400 KB) was 100,000
# passages, an hour of embedding where as much prose is a few hundred. Past this many, a
# document is cut only at its shallowest heading levels that fit (a manual's chapters, not its
# every subsection), or at none; the other heading lines stay in the text, packed.
MAX_SECTIONS = 2_000
_BATCH_CHARS = 4_000_000


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages; recorded in the index manifest."""

    target_tokens: int = 160
    overlap_sentences: int = 1
    context: str = "title+heading"  # what precedes the passage in the embedded text
    # Follow paragraphs: passages never cross a paragraph break, short paragraphs are packed
    # whole up to target_tokens, and image captions are left out of passages. A paragraph is
    # cut into sentences when it is longer than `paragraph_whole`: the target ("target"), or
    # only the model's window ("window", which measured worse on SciFact: results/levers_*).
    paragraphs: bool = True
    paragraph_whole: str = "target"

    def __post_init__(self) -> None:
        if self.target_tokens < 8:
            raise ValueError(f"target_tokens must be at least 8, not {self.target_tokens}.")
        if self.overlap_sentences < 0:
            raise ValueError(f"overlap_sentences cannot be negative ({self.overlap_sentences}).")
        if self.paragraph_whole not in ("target", "window"):
            raise ValueError(
                f"paragraph_whole must be target or window, not {self.paragraph_whole!r}."
            )
        if self.context not in CONTEXTS:
            raise ValueError(f"context must be one of {', '.join(CONTEXTS)}, not {self.context!r}.")

    def to_dict(self) -> dict[str, Any]:
        """Settings plus the chunker version, for the manifest."""
        return {**asdict(self), "version": CHUNKER_VERSION}


DEFAULT_SETTINGS = ChunkSettings()


# -- sections and context -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Section:
    heading: str | None
    path: tuple[str, ...]  # enclosing headings, outermost first, this one last
    start: int  # body span (or the heading line itself when the section has no body)
    end: int
    heading_only: bool


def _within_cap(heads: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The headings, or past MAX_SECTIONS those of the shallowest levels that fit."""
    if len(heads) <= MAX_SECTIONS:
        return heads
    total, deepest = 0, 0  # level 0: none kept
    for level, count in sorted(collections.Counter(h[1] for h in heads).items()):
        total += count
        if total > MAX_SECTIONS:
            break
        deepest = level
    return [h for h in heads if h[1] <= deepest]


def _sections(doc: Document) -> list[_Section]:
    """The document cut at its headings: the text before the first one, then one per heading."""
    text = doc.text
    heads = sorted({h[0]: h for h in doc.headings if 0 <= h[0] < len(text)}.values())
    heads = _within_cap(heads)
    out: list[_Section] = []
    first = heads[0][0] if heads else len(text)
    if strip_span(text, 0, first)[0] < first:
        out.append(_Section(None, (), 0, first, False))
    stack: list[tuple[int, str]] = []
    for i, (offset, level, title) in enumerate(heads):
        nl = text.find("\n", offset)
        line_end = len(text) if nl < 0 else nl
        stop = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        line_end = min(line_end, stop)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title.strip()))
        path = tuple(t for _, t in stack if t)
        name = title.strip() or None
        a, b = strip_span(text, line_end, stop)
        if a < b:
            out.append(_Section(name, path, line_end, stop, False))
        else:
            ha, hb = strip_span(text, offset, line_end)
            if ha < hb:
                out.append(_Section(name, path[:-1], ha, hb, True))
    return _split_at_pages(doc, out) if doc.page_starts else out


def _split_at_pages(doc: Document, sections: list[_Section]) -> list[_Section]:
    """Cut sections at PDF page breaks, so each passage sits on one page and `#page=N` is exact."""
    out: list[_Section] = []
    for sec in sections:
        if sec.heading_only:
            out.append(sec)
            continue
        cuts = [p for p in doc.page_starts if sec.start < p < sec.end]
        for a, b in itertools.pairwise([sec.start, *cuts, sec.end]):
            body_start, body_end = strip_span(doc.text, a, b)
            if body_start < body_end:
                out.append(_Section(sec.heading, sec.path, a, b, False))
    return out


def _context_parts(doc: Document, section: _Section, mode: str) -> list[str]:
    if mode == "none":
        return []
    title = " ".join(doc.title.split())
    path = [" ".join(h.split()) for h in section.path]
    path = [h for h in path if h and h.casefold() != title.casefold()]
    heading = " › ".join(path[-2:])  # parent and own heading are enough context
    if mode == "heading":
        return [heading] if heading else []
    return [p for p in (title, heading) if p]


def _compose(parts: Sequence[str]) -> str:
    """'Title.\\nHeading.\\n': each part closed with a period so the model sees a boundary."""
    return "".join(p + ("" if p[-1] in ".!?:;…" else ".") + "\n" for p in parts)


def _prefixes(
    keys: Sequence[tuple[str, ...]], embedder: TokenCounter, cap: int
) -> dict[tuple[str, ...], tuple[str, int]]:
    """Each distinct context → (prefix text, its tokens), shortened to at most `cap` tokens."""
    unique = list(dict.fromkeys(keys))
    counts = embedder.count_tokens([_compose(k) for k in unique])
    out: dict[tuple[str, ...], tuple[str, int]] = {}
    for parts, n in zip(unique, counts, strict=True):
        current = list(parts)
        for _ in range(8):  # each round removes the overflow from the longest part
            if n <= cap or not current:
                break
            lengths = embedder.count_tokens(current)
            i = max(range(len(current)), key=lambda j: lengths[j])
            current[i] = truncate(embedder, current[i], lengths[i] - (n - cap) - 1)
            current = [p for p in current if p]
            n = embedder.count_tokens([_compose(current)])[0] if current else 0
        if n > cap:
            current, n = [], 0
        out[parts] = (_compose(current), n)
    return out


# -- packing ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    doc_index: int
    section: _Section
    start: int
    end: int
    prefix: str
    budget: int  # word pieces the passage text may use
    whole: bool  # made of whole sentences only (no cut inside a sentence)


def chunk_document(
    doc: Document, embedder: TokenCounter, settings: ChunkSettings = DEFAULT_SETTINGS
) -> list[Passage]:
    """The passages of one document, in order."""
    return chunk_documents([doc], embedder, settings)


def chunk_documents(
    docs: Sequence[Document], embedder: TokenCounter, settings: ChunkSettings = DEFAULT_SETTINGS
) -> list[Passage]:
    """Passages of many documents (tokenizer calls batched across them), in document order."""
    embedder = fast_counter(embedder)  # the same counts, most of them without a full encode
    passages: list[Passage] = []
    batch: list[Document] = []
    size = 0
    for doc in docs:  # batches of a few MB keep memory flat on a large corpus
        batch.append(doc)
        size += len(doc.text)
        if size >= _BATCH_CHARS:
            passages.extend(_chunk_batch(batch, embedder, settings))
            batch, size = [], 0
    if batch:
        passages.extend(_chunk_batch(batch, embedder, settings))
    return passages


def _chunk_batch(
    docs: Sequence[Document], embedder: TokenCounter, settings: ChunkSettings
) -> list[Passage]:
    window = embedder.max_seq_length - embedder.special_tokens
    cap = window // _PREFIX_SHARE
    # Gather every section and sentence first so the tokenizer sees large batches.
    sections: list[tuple[int, _Section, tuple[str, ...]]] = []
    for d, doc in enumerate(docs):
        for section in _sections(doc):
            sections.append((d, section, tuple(_context_parts(doc, section, settings.context))))
    prefixes = _prefixes([s[2] for s in sections], embedder, cap)
    # Units are sentences; in paragraph mode a paragraph is one unit when it fits the window
    # (counted below), and only an over-long one is cut into its sentences.
    units: list[list[tuple[int, int]]] = []
    for d, section, _ in sections:
        text = docs[d].text
        if section.heading_only:
            units.append([(section.start, section.end)])
        elif settings.paragraphs:
            units.append(paragraphs(text, section.start, section.end))
        else:
            units.append(split_sentences(text, section.start, section.end))
    flat = [docs[d].text[a:b] for (d, _, _), us in zip(sections, units, strict=True) for a, b in us]
    counts = iter(embedder.count_tokens(flat))

    drafts: list[_Draft] = []
    for (d, section, key), spans in zip(sections, units, strict=True):
        text = docs[d].text
        prefix, prefix_tokens = prefixes[key]
        limit = max(1, window - prefix_tokens)
        target = min(settings.target_tokens, limit)
        # groups: runs of units packed on their own (an over-long paragraph's sentences), or
        # whole paragraphs packed together.
        groups: list[tuple[list[tuple[int, int, int, bool]], int, int]] = []
        whole: list[tuple[int, int, int, bool]] = []
        keep = target if settings.paragraphs and settings.paragraph_whole == "target" else limit
        for a, b in spans:
            n = next(counts)
            if n <= keep and b - a <= MAX_PASSAGE_CHARS:
                whole.append((a, b, n, True))
                continue
            if settings.paragraphs and not section.heading_only:
                if whole:
                    groups.append((whole, target, 0))
                    whole = []
                groups.append(
                    (
                        _sized(embedder, text, split_sentences(text, a, b), limit, target),
                        target,
                        settings.overlap_sentences,
                    )
                )
            else:
                whole.extend((*p, False) for p in pieces(embedder, text, a, b, target))
        if whole:
            overlap = 0 if settings.paragraphs else settings.overlap_sentences
            groups.append((whole, target, overlap))
        for sized, goal, overlap in groups:
            lengths = [s[1] - s[0] for s in sized]
            for i, j in pack([s[2] for s in sized], goal, limit, overlap, lengths):
                ok = all(s[3] for s in sized[i : j + 1])
                drafts.append(_Draft(d, section, sized[i][0], sized[j][1], prefix, limit, ok))
    drafts = _fit(drafts, docs, embedder, window, check_all=not _additive(embedder))
    return _passages(drafts, docs)


def _sized(
    embedder: TokenCounter, text: str, spans: Sequence[tuple[int, int]], limit: int, target: int
) -> list[tuple[int, int, int, bool]]:
    """(start, end, tokens, whole) of each sentence, over-long ones cut at word pieces."""
    counts = embedder.count_tokens([text[a:b] for a, b in spans])
    out: list[tuple[int, int, int, bool]] = []
    for (a, b), n in zip(spans, counts, strict=True):
        if n <= limit and b - a <= MAX_PASSAGE_CHARS:
            out.append((a, b, n, True))
        else:
            out.extend((*p, False) for p in pieces(embedder, text, a, b, target))
    return out


def _additive(embedder: TokenCounter) -> bool:
    """True for BERT WordPiece tokenizers, whose counts add up across sentence boundaries.

    They split words at whitespace and at every punctuation mark (each sentence ends in one)
    and normalize character by character, so a passage of whole sentences has exactly the sum
    of their counts, and the prefix (ending in a line break) adds exactly its own.
    """
    tok = getattr(embedder, "tokenizer", None)
    pre, model = getattr(tok, "pre_tokenizer", None), getattr(tok, "model", None)
    return type(pre).__name__ == "BertPreTokenizer" and type(model).__name__ == "WordPiece"


def _fit(
    drafts: list[_Draft],
    docs: Sequence[Document],
    embedder: TokenCounter,
    window: int,
    *,
    check_all: bool,
) -> list[_Draft]:
    """Count embedded texts with the tokenizer and re-cut the few that overflow.

    Counts do not add up after a cut inside a word (it re-tokenizes differently), nor in
    general for other tokenizers, so those texts are counted exactly as the model will read them.
    """
    done = [p for p in drafts if p.whole and not check_all]
    pending = [p for p in drafts if not p.whole or check_all]
    while pending:
        texts = [p.prefix + docs[p.doc_index].text[p.start : p.end] for p in pending]
        retry: list[_Draft] = []
        for p, n in zip(pending, embedder.count_tokens(texts), strict=True):
            if n <= window or (p.budget <= 1 and not p.prefix):
                done.append(p)
                continue
            # Budgets shrink each round; one word piece that still overflows loses its prefix.
            prefix = p.prefix if p.budget > 1 else ""
            budget = max(1, p.budget - (n - window) - 1)
            for a, b, _ in pieces(embedder, docs[p.doc_index].text, p.start, p.end, budget):
                retry.append(_Draft(p.doc_index, p.section, a, b, prefix, budget, False))
        pending = retry
    done.sort(key=lambda p: (p.doc_index, p.start, p.end))
    return done


def _passages(drafts: Sequence[_Draft], docs: Sequence[Document]) -> list[Passage]:
    out: list[Passage] = []
    ordinal = 0
    last_doc = -1
    for p in drafts:
        if p.doc_index != last_doc:
            last_doc, ordinal = p.doc_index, 0
        doc = docs[p.doc_index]
        text = doc.text[p.start : p.end]
        if not visible(text):  # a section of zero-width spaces: a blank hit of every query
            continue
        out.append(
            Passage(
                doc_id=doc.doc_id,
                ordinal=ordinal,
                text=text,
                start=p.start,
                end=p.end,
                heading=p.section.heading,
                page=doc.page_at(p.start),
                embed_text=p.prefix + text,
            )
        )
        ordinal += 1
    return out
