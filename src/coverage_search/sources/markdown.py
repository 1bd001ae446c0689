"""Markdown → the plain text a reader sees on the rendered page, with its headings."""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it.token import Token

Heading = tuple[int, int, str]  # (offset in text, level, heading text)

_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACE_RUNS = re.compile(r"[ \t\u00a0]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
_HTML_SKIP = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_HTML_BREAK_TAG = re.compile(
    r"</?(?:address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|figure|footer|h[1-6]|header"
    r"|hr|li|main|nav|ol|p|pre|section|table|td|th|tr|ul)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Block:
    """One visual block of a page: paragraph, heading (level 1-6), list item, table row, code."""

    text: str
    level: int = 0  # heading level, 0 for everything that is not a heading
    tight: bool = False  # True: follows the previous block after "\n" (list items, table rows)
    verbatim: bool = False  # True: keep inner spacing as written (code, table rows)


@dataclass(frozen=True, slots=True)
class RenderedText:
    """Plain text plus the headings found in it."""

    text: str
    headings: tuple[Heading, ...]


def whole_characters(text: str) -> str:
    """`text` with UTF-16 surrogate halves joined into their character, a half alone as U+FFFD.

    YAML and JSON escape an emoji as two halves ("\\ud83d\\ude00"), and a PDF's text map can
    hold a half alone: neither is a character, and the tokenizer and SQLite refuse them.
    """
    if not _SURROGATES.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_text(text: str, *, verbatim: bool = False) -> str:
    """NFC, LF line ends, no trailing spaces, no runs of blank lines, no outer blank lines."""
    text = whole_characters(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", text)
    lines = [line.rstrip() for line in text.split("\n")]
    if not verbatim:
        lines = [_SPACE_RUNS.sub(" ", line).strip() for line in lines]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines))
    return text.strip("\n") if verbatim else text.strip()


def assemble(blocks: Iterable[Block]) -> RenderedText:
    """Join blocks with "\\n\\n" (or "\\n" when tight) and record where each heading starts."""
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for block in blocks:
        text = clean_text(block.text, verbatim=block.verbatim)
        if block.level:
            text = " ".join(text.split())  # a heading is one line
        if not text:
            continue
        if parts:
            sep = "\n" if block.tight else "\n\n"
            parts.append(sep)
            offset += len(sep)
        if block.level:
            headings.append((offset, block.level, text))
        parts.append(text)
        offset += len(text)
    return RenderedText("".join(parts), tuple(headings))


def markdown_to_text(source: str) -> RenderedText:
    """Markdown (CommonMark + tables) as plain text: no markup; link text and image alt kept."""
    return assemble(markdown_blocks(source))


_PARSERS = threading.local()
MAX_TABLE_PIPES = 500_000  # a few seconds of table parsing: far past any article's tables
MAX_NESTING = 100
# A line's list markers and quote marks ("  - ", "> > ", "3. "), for reading a document flat.
_CONTAINERS = re.compile(r"^[ \t]*(?:(?:[*+-]|\d{1,9}[.)])[ \t]+[ \t]*|>[ \t]*)+", re.MULTILINE)


_DELIMITER_ROW = re.compile(
    r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*\n", re.MULTILINE
)
_TABLE_ROWS = re.compile(r"(?:^[ \t]*\|.*\|[ \t]*(?:\n|\Z))+", re.M)
_FENCE = "~" * 8


def _rows_as_lines(match: re.Match[str]) -> str:
    """A run of table rows as a fenced block of tab-separated cells: the text the table rule
    gives, one row a line (cells are not rendered as Markdown on this path)."""
    if _FENCE in match[0]:
        return match[0]
    rows = ["\t".join(c.strip() for c in line.strip().strip("|").split("|"))
            for line in match[0].splitlines()]  # fmt: skip
    return f"{_FENCE}\n" + "\n".join(rows) + f"\n{_FENCE}\n"


def _parser(*, tables: bool = True) -> Any:
    """This thread's Markdown parser, made once: making one took 0.18 ms against 0.81 ms to
    parse 3 KB of the seed article, a fifth of the work for a short file."""
    name = "parser" if tables else "plain_parser"
    parser = getattr(_PARSERS, name, None)
    if parser is None:
        from markdown_it import MarkdownIt

        rules = ["table", "strikethrough"] if tables else ["strikethrough"]
        # CommonMark's preset stops at 20 levels (a list ~10 deep); markdown-it's own default
        # preset allows 100, which parses a 48-deep list in milliseconds.
        parser = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable(rules)
        setattr(_PARSERS, name, parser)
    return parser


def markdown_blocks(source: str) -> list[Block]:
    """The visual blocks of a Markdown document, in order."""
    text = unicodedata.normalize("NFC", source)
    # markdown-it makes three tokens a table cell, which for millions of cells took minutes and
    # gigabytes: past MAX_TABLE_PIPES the table rule is off and each row a line of cells.
    tables = text.count("|") <= MAX_TABLE_PIPES
    parser = _parser(tables=tables)
    if not tables:
        text = _TABLE_ROWS.sub(_rows_as_lines, _DELIMITER_ROW.sub("", text))
    tokens = parser.parse(text)
    if tokens and max(t.level for t in tokens) >= MAX_NESTING - 1:
        # At its nesting limit markdown-it stops reading and drops the rest of the file without
        # a word: read the containers flat instead, so every word is kept.
        tokens = parser.parse(_CONTAINERS.sub("", text))
    blocks: list[Block] = []
    groups = 0  # depth of lists and tables: their blocks sit on consecutive lines
    group_start = False
    heading_level = 0
    row: list[str] | None = None

    def emit(text: str, *, level: int = 0, verbatim: bool = False) -> None:
        nonlocal group_start
        tight = groups > 0 and not group_start
        blocks.append(Block(text, level, tight=tight, verbatim=verbatim))
        group_start = False

    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open", "table_open"):
            group_start = group_start or groups == 0
            groups += 1
        elif kind in ("bullet_list_close", "ordered_list_close", "table_close"):
            groups -= 1
        elif kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            emit(
                "\t".join(row), verbatim=True
            )  # cells are separate boxes on the page; a tab keeps them apart
            row = None
        elif kind == "inline":
            text = render_inline(token.children or [])
            if row is not None:
                row.append(" ".join(text.split()))
            else:
                emit(text, level=heading_level)
        elif kind in ("fence", "code_block"):
            emit(token.content, verbatim=True)
        elif kind == "html_block":
            emit(html_block_text(token.content))
    return blocks


def render_inline(children: Sequence[Token]) -> str:
    """The visible text of an inline token's children."""
    out: list[str] = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind == "softbreak":
            out.append(" ")  # a browser shows a wrapped source line as one line
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "image":
            out.append(render_inline(child.children or []))
        # link, emphasis, strikethrough and inline HTML tags add no visible text
    return "".join(out)


def html_block_text(raw: str) -> str:
    """The visible text of a raw HTML block inside Markdown (tags, comments, scripts removed)."""
    text = _HTML_BREAK_TAG.sub("\n", _HTML_SKIP.sub("\n", raw))
    return html.unescape(_HTML_TAG.sub("", text))
