"""Packing text into passages: paragraphs, word-piece cuts, and greedy runs under a budget."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Protocol

from coverage_search.passages.sentences import strip_span

# No passage is longer than this, whatever the tokenizer says: a 2 MB "word" is one unknown
# word piece to WordPiece, so token budgets alone would let it through whole.
MAX_PASSAGE_CHARS = 3_000
MAX_TOKEN_CHARS = 100  # WordPiece reads a longer word as one [UNK]: cut there
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Image captions and alt text stay in the document (shown around a passage) but out of the
# passages: "Image: Futuristic train platform…" says nothing the article is about.
CAPTION = re.compile(r"(?:\*?(?:image|photo|picture|illustration|credit)s?\s*:|!\[)", re.I)


class TokenCounter(Protocol):
    """What chunking needs from an embedder: its window and its tokenizer (see `Embedder`)."""

    @property
    def max_seq_length(self) -> int: ...

    @property
    def special_tokens(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


def truncate(embedder: TokenCounter, text: str, tokens: int) -> str:
    """`text` cut to at most `tokens` word pieces, at a space when one is near."""
    if tokens <= 0:
        return ""
    spans = embedder.token_spans(text)
    if len(spans) <= tokens:
        return text
    return text[: cut_index(spans, 0, tokens, len(spans))].rstrip()


def cut_index(spans: Sequence[tuple[int, int]], first: int, budget: int, n: int) -> int:
    """Character offset to cut at so that tokens [first, cut) hold at most `budget` pieces."""
    last = min(n, first + budget)
    if last >= n:
        return spans[n - 1][1]
    for k in range(last, first + max(1, budget // 2), -1):
        if spans[k][0] > spans[k - 1][1]:  # whitespace (or skipped characters) before token k
            return spans[k][0]
    return spans[last][0]


def pieces(
    embedder: TokenCounter, text: str, start: int, end: int, budget: int
) -> list[tuple[int, int, int]]:
    """An over-long span cut at word-piece boundaries into (start, end, tokens) of ≤ budget."""
    spans = short_spans(embedder.token_spans(text[start:end]))
    if not spans:
        return [(start, end, 0)]
    out: list[tuple[int, int, int]] = []
    first, n = 0, len(spans)
    while first < n:
        cut = cut_index(spans, first, budget, n)
        last = first
        while last < n and spans[last][1] <= cut:
            last += 1
        while last > first + 1 and spans[last - 1][1] - spans[first][0] > MAX_PASSAGE_CHARS:
            last -= 1
        last = max(last, first + 1)
        if last < n:
            cut = spans[last][0]
        # The first and last pieces reach the span's ends: characters the tokenizer skips
        # (control characters) must not fall outside every passage.
        piece_start = start if first == 0 else start + spans[first][0]
        a, b = strip_span(text, piece_start, start + cut if last < n else end)
        if a < b:
            out.append((a, b, last - first))
        first = last
    return out


def short_spans(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token spans with every span over MAX_TOKEN_CHARS cut into pieces of that size."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        out.extend((i, min(i + MAX_TOKEN_CHARS, b)) for i in range(a, b, MAX_TOKEN_CHARS))
    return out


def paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the blank-line separated paragraphs of text[start:end], captions left out."""
    out = []
    pos = start
    for m in itertools.chain(PARAGRAPH_BREAK.finditer(text, start, end), [None]):
        stop = end if m is None else m.start()
        a, b = strip_span(text, pos, stop)
        if a < b and not CAPTION.match(text, a, b):
            out.append((a, b))
        if m is not None:
            pos = m.end()
    return out


def pack(
    tokens: Sequence[int],
    target: int,
    limit: int,
    overlap: int,
    chars: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """Greedy runs [i, j] of units up to `target` tokens, with sentence overlap between runs.

    With `chars` (each unit's length), a run also stays within MAX_PASSAGE_CHARS.
    """
    n = len(tokens)
    size = chars or [0] * n
    suffix = [0] * (n + 1)
    size_suffix = [0] * (n + 1)
    for k in range(n - 1, -1, -1):
        suffix[k] = suffix[k + 1] + tokens[k]
        size_suffix[k] = size_suffix[k + 1] + size[k]
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j, total, length = i, tokens[i], size[i]
        while (
            j + 1 < n
            and total + tokens[j + 1] <= target
            and length + size[j + 1] <= MAX_PASSAGE_CHARS
        ):
            j += 1
            total += tokens[j]
            length += size[j]
        rest = suffix[j + 1]
        tail = size_suffix[j + 1]
        if (
            j + 1 < n
            and rest <= target // 4
            and total + rest <= limit
            and (length + tail <= MAX_PASSAGE_CHARS)
        ):
            j = n - 1  # a short tail joins this passage instead of standing alone
        runs.append((i, j))
        if j == n - 1:
            break
        nxt = j + 1
        k = max(i + 1, j + 1 - overlap)
        shared = sum(tokens[k : j + 1])
        # overlap only when it is small next to the budget and leaves room for new text
        if k <= j and shared <= target // 2 and shared + tokens[nxt] <= target:
            nxt = k
        i = nxt
    return runs
