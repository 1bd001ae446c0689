"""Word-piece counts of plain ASCII text without a full encode, exactly as BERT WordPiece counts.

Chunking only needs how many word pieces a text has. A full `encode_batch` builds ids, offsets
and alignments for every piece (~3 µs a piece, 80% of chunking). For a BERT tokenizer on text
of printable ASCII, tabs and line breaks, normalizing is lowercasing and pre-tokenizing is
splitting at whitespace and at every ASCII punctuation mark, so the count is the sum over those
words of the WordPiece model's own pieces for each, which are learned once per distinct word.
Anything else (non-ASCII, control characters, text that could hold an added token such as
`[SEP]`, another tokenizer) is counted by the tokenizer itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from coverage_search.passages.packing import TokenCounter

_PLAIN = re.compile(r"[\t\n\r -~]*")  # printable ASCII, tab, line feed, carriage return
_WORDS = re.compile(r"[0-9A-Za-z]+|[!-/:-@\[-`{-~]")  # runs of letters/digits; punctuation alone
_MEMO_LIMIT = 2_000_000  # distinct words remembered; past it the memo starts again


class _Pieces(dict[str, int]):
    """Word → its word pieces, asked of the WordPiece model the first time a word is seen."""

    def __init__(self, model: Any, lowercase: bool) -> None:
        super().__init__()
        self._model, self._lowercase = model, lowercase

    def __missing__(self, word: str) -> int:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        n = len(self._model.tokenize(word.lower() if self._lowercase else word))
        self[word] = n
        return n


class WordPieceCounter:
    """A TokenCounter that counts plain ASCII texts itself and asks the embedder for the rest."""

    def __init__(self, embedder: TokenCounter, tokenizer: Any, config: dict[str, Any]) -> None:
        self._embedder = embedder
        self.tokenizer = tokenizer  # what chunking's `_additive` looks at
        self._special = embedder.special_tokens
        lowercase = bool(config["normalizer"].get("lowercase"))
        known = _PIECES.get(id(tokenizer))
        if known is None or known[0] is not tokenizer:
            _PIECES.clear()  # one tokenizer at a time in practice; never a growing table
            known = _PIECES[id(tokenizer)] = (tokenizer, _Pieces(tokenizer.model, lowercase))
        self._pieces = known[1]  # shared by every counter of this tokenizer
        # An added token ("[SEP]") is matched in the raw text before normalizing: a text holding
        # the first character of one (either case) is left to the tokenizer.
        firsts = {t["content"][:1] for t in config.get("added_tokens") or [] if t.get("content")}
        self._risky = frozenset(firsts | {c.lower() for c in firsts} | {c.upper() for c in firsts})

    @property
    def max_seq_length(self) -> int:
        return self._embedder.max_seq_length

    @property
    def special_tokens(self) -> int:
        return self._special

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self._embedder.token_spans(text)

    def _plain(self, text: str) -> bool:
        return (
            text.isascii()
            and _PLAIN.fullmatch(text) is not None
            and not any(c in text for c in self._risky)
        )

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        pieces = self._pieces.__getitem__
        out: list[int] = []
        others: list[int] = []
        for i, text in enumerate(texts):
            if self._plain(text):
                out.append(sum(map(pieces, _WORDS.findall(text))))
            else:
                out.append(0)
                others.append(i)
        if others:
            counted = self._embedder.count_tokens([texts[i] for i in others])
            for i, n in zip(others, counted, strict=True):
                out[i] = n
        return out


_PIECES: dict[int, tuple[Any, _Pieces]] = {}
_COUNTERS: dict[int, tuple[Any, WordPieceCounter]] = {}


def fast_counter(embedder: TokenCounter) -> TokenCounter:
    """`embedder` with WordPieceCounter's counts when its tokenizer is BERT WordPiece, else itself.

    One counter per embedder and one memo of words per tokenizer, kept for the next build.
    """
    tok: Any = getattr(embedder, "tokenizer", None)
    if tok is None or not callable(getattr(tok, "to_str", None)):
        return embedder
    memo = _COUNTERS.get(id(embedder))
    if memo is not None and memo[0] is embedder and memo[1].tokenizer is tok:
        return memo[1]
    try:
        config = json.loads(tok.to_str())
    except (TypeError, ValueError):
        return embedder
    normalizer, pre = config.get("normalizer") or {}, config.get("pre_tokenizer") or {}
    model = config.get("model") or {}
    if (
        normalizer.get("type") != "BertNormalizer"
        or not normalizer.get("clean_text")
        or pre.get("type") != "BertPreTokenizer"
        or model.get("type") != "WordPiece"
    ):
        return embedder
    counter = WordPieceCounter(embedder, tok, config)
    _COUNTERS.clear()  # one embedder at a time in practice; never a growing table
    _COUNTERS[id(embedder)] = (embedder, counter)
    return counter
