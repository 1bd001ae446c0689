"""Text → sentence spans: abbreviation-, decimal-, quote- and line-aware, offsets kept exact."""

from __future__ import annotations

import re
from collections.abc import Iterator

# Sentence ends: terminal punctuation plus closing quotes/brackets, followed by whitespace;
# CJK full stops need no space after them.
_END = re.compile(r"""(?:\.{2,}|…|[.!?]+)['"”’»)\]]*(?=\s|$)|[。！？]+['"”’」』)）]*""")
_OPENERS = "\"'“‘«([¿¡"
_CJK_END = "。！？"
# Words that end in a period without ending the sentence (lowercased, without the final period).
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof sr jr st vs v e.g i.e cf al inc ltd co corp no nos fig figs approx "
    "gen gov sen rep lt col capt cmdr sgt mt ft jan feb mar apr jun jul aug sep sept oct nov "
    "dec u.s u.k u.n e.u ph.d dept univ vol vols pp eq eqs ref refs ave blvd rev hon messrs "
    "est ca op ed eds"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_INITIALISM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]|[^\W\d_]")  # "U.S", "e.g", "J"
_MARKER = re.compile(r"\s*[(\[]?(?:\d{1,3}|[^\W\d_]|[ivxlcdm]{1,5}|[IVXLCDM]{1,5})[)\]]?")
_LAST_WORD = re.compile(r"\S+$")
_SOFT_WRAP_END = re.compile(r"[\w,;(–-]$")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in `text[start:end]`, stripped of outer whitespace, in order.

    Blank lines always end a sentence; a single line break does too (list items, table rows),
    unless it looks like a hard-wrapped line: no closing punctuation before, lowercase after.
    """
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for b_start, b_end in _blocks(text, start, stop):
        spans.extend(_split_block(text, b_start, b_end))
    return spans


def _blocks(text: str, start: int, stop: int) -> Iterator[tuple[int, int]]:
    """Runs of lines that can hold one sentence across their line breaks."""
    block_start = -1
    prev_end = -1  # end of the previous non-blank line (stripped)
    pos = start
    while pos < stop:
        nl = text.find("\n", pos, stop)
        line_end = stop if nl < 0 else nl
        a, b = strip_span(text, pos, line_end)
        if a >= b:  # blank line: paragraph break
            if block_start >= 0:
                yield block_start, prev_end
                block_start = -1
        elif block_start < 0:
            block_start = a
        elif not _soft_wrap(text, prev_end, a):
            yield block_start, prev_end
            block_start = a
        if a < b:
            prev_end = b
        pos = line_end + 1
    if block_start >= 0:
        yield block_start, prev_end


def _soft_wrap(text: str, prev_end: int, next_start: int) -> bool:
    """True when a line break sits inside a sentence (hard-wrapped prose)."""
    return text[next_start].islower() and bool(_SOFT_WRAP_END.search(text, prev_end - 1, prev_end))


def _split_block(text: str, start: int, stop: int) -> Iterator[tuple[int, int]]:
    sent_start = start
    for m in _END.finditer(text, start, stop):
        cut = m.end()
        if cut >= stop:
            break
        if not _is_boundary(text, m, sent_start, stop):
            continue
        a, b = strip_span(text, sent_start, cut)
        if a < b:
            yield a, b
        sent_start = cut
    a, b = strip_span(text, sent_start, stop)
    if a < b:
        yield a, b


def _is_boundary(text: str, m: re.Match[str], sent_start: int, stop: int) -> bool:
    mark = m.group()
    if mark[0] in _CJK_END:
        return True
    nxt = m.end()
    while nxt < stop and (text[nxt].isspace() or text[nxt] in _OPENERS):
        nxt += 1
    if nxt >= stop or text[nxt].islower():
        return False  # "e.g. the", "... and", '"Go," she said'
    if _MARKER.fullmatch(text, sent_start, m.start()):
        return False  # list markers and numbering: "1. ", "(a). ", "iv. "
    if mark[0] != "." or mark.startswith(".."):
        return True
    word = _LAST_WORD.search(text, max(sent_start, m.start() - 40), m.start())
    if word is None:
        return True
    token = word.group().lstrip(_OPENERS).lower()
    # "Dr. Amodei", "the U.S. Senate", "J. Smith" go on after the period
    return not (token in _ABBREVIATIONS or _INITIALISM.fullmatch(token))


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """`(start, end)` moved inwards past whitespace; equal offsets when there is only whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
