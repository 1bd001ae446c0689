"""HTML pages → main text, headings and metadata, extracted by trafilatura."""

from __future__ import annotations

import re
from typing import Any

from coverage_search.sources.markdown import (
    Block,
    RenderedText,
    assemble,
    clean_text,
    html_block_text,
)
from coverage_search.sources.metadata import Metadata, normalize_date, normalize_language
from coverage_search.sources.reading import (
    UTF16_WITHOUT_BOM,
    Parts,
    Unreadable,
    brief,
    one_line,
    utf16_without_bom,
)

_BLOCK_TAGS = ("p", "head", "list", "table", "quote", "div")
# lxml (libxml2) stops parsing at 256 levels of nesting and silently drops the rest of the
# page; a tree this deep is read by flat_text instead.
TOO_DEEP = 250
# libxml2 checks each attribute against the tag's others, and trafilatura's work grows with
# the tags: a 650 KB tag of 60,000 attributes took 143 s to read, 120,000 paragraphs 147 s. A
# tag with more attributes than any page needs loses them, and a page of more tags than an
# article has (scripts and styles aside; about 50 µs a tag) is read flat. Both scans are
# linear: possessive quantifiers, and finds instead of lazy patterns.
MAX_ATTRIBUTES = 1000
MAX_TAGS = 100_000
_LONG_TAG = re.compile(rb"<([a-zA-Z][\w:.-]*+)([^<>]{2000,}+)>")
_NAME_CHAR = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_:")
_WHITESPACE = re.compile(r"\s+")


def read_html(raw: bytes) -> Parts:
    """The page's main text (or all its visible text when none is found) and its metadata."""
    import trafilatura
    from trafilatura.settings import set_date_params

    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable(
            UTF16_WITHOUT_BOM if utf16_without_bom(raw) else "binary data, not an HTML page"
        )
    # Dates only from the page's markup (meta tags, <time>), never guessed from its text.
    dates = set_date_params(extensive=False)
    result: Any  # trafilatura's Document (its signature says Document | dict)
    raw = tame_markup(raw)
    try:
        tree = trafilatura.load_html(raw)
        if tree is None:
            raise Unreadable("not a readable HTML page")
        lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
        if _depth(tree) >= TOO_DEEP or without(raw, (b"script", b"style")).count(b"<") > MAX_TAGS:
            # lxml stopped parsing (what it dropped is in the bytes), or trafilatura would
            # take minutes: every visible line, read by pattern.
            result = trafilatura.extract_metadata(tree, date_config=dates)
            rendered = RenderedText(clean_text(flat_text(raw)), ())
            flattened = True
        else:
            result, rendered = _extract(trafilatura, tree, raw, dates)
            flattened = False
    except Unreadable:
        raise
    except Exception as exc:  # lxml and trafilatura raise many kinds on broken markup
        raise Unreadable(f"not a readable HTML page ({brief(exc)})") from None
    if not rendered.text:
        raise Unreadable("no readable text in the HTML page")
    meta = Metadata(
        title=one_line(getattr(result, "title", None)),
        url=one_line(getattr(result, "url", None)),
        outlet=one_line(getattr(result, "sitename", None)),
        published=normalize_date(getattr(result, "date", None)),
        author=one_line(getattr(result, "author", None)),
        language=normalize_language(getattr(result, "language", None) or lang),
    )
    h1 = next((h for _, level, h in rendered.headings if level == 1), None)
    return Parts(rendered, meta, h1, flattened=flattened)


def _extract(trafilatura: Any, tree: Any, raw: bytes, dates: Any) -> tuple[Any, RenderedText]:
    """trafilatura's main text (with headings) and metadata (its Document) of a parsed page."""
    result = trafilatura.bare_extraction(
        tree,
        with_metadata=True,
        include_formatting=True,  # keeps <head rend="h2">, so headings survive
        include_tables=True,
        include_comments=False,  # reader comments are not the article
        output_format="python",
        date_extraction_params=dates,
    )
    body = getattr(result, "body", None)
    rendered = assemble(xml_blocks(body) if body is not None else [])
    if not rendered.text:  # no main text found: fall back to every visible line
        rendered = RenderedText(clean_text(trafilatura.html2txt(raw)), ())
    if result is None:  # bare_extraction gives no metadata when it finds no text
        result = trafilatura.extract_metadata(trafilatura.load_html(raw), date_config=dates)
    return result, rendered


def _depth(tree: Any) -> int:
    """How deep the parsed tree nests (walked with a stack: recursion would overflow)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest


def without(raw: bytes, names: tuple[bytes, ...]) -> bytes:
    """`raw` without its <name>…</name> elements (an unclosed one runs to the end), in one pass."""
    low = raw.lower()
    upcoming = dict.fromkeys(names, -1)
    kept, pos = [], 0
    while pos < len(raw):
        for name in names:  # each name's next start, looked up again only once passed
            if upcoming[name] != len(raw) and upcoming[name] < pos:
                upcoming[name] = _next_tag(low, name, pos)
        name = min(names, key=lambda n: upcoming[n])
        start = upcoming[name]
        kept.append(raw[pos:start])
        if start == len(raw):
            break
        end = _next_tag(low, b"/" + name, start)
        close = low.find(b">", end)
        pos = close + 1 if close >= 0 else len(raw)
    return b"".join(kept) if len(kept) != 1 else kept[0]


def _next_tag(low: bytes, name: bytes, pos: int) -> int:
    """Where the next <name> tag (not <name-more>; "/head" for a closing one) starts at or
    after `pos`; len(low) if none."""
    while (at := low.find(b"<" + name, pos)) >= 0:
        after = at + 1 + len(name)
        if after >= len(low) or low[after] not in _NAME_CHAR:
            return at
        pos = after
    return len(low)


def tame_markup(raw: bytes) -> bytes:
    """The page with every tag of over MAX_ATTRIBUTES attributes stripped of them."""
    return _LONG_TAG.sub(_bare_tag, raw)


def _bare_tag(match: re.Match[bytes]) -> bytes:
    """A tag with over MAX_ATTRIBUTES attributes, without them."""
    if len(match.group(2).split()) <= MAX_ATTRIBUTES:  # about one word an attribute
        return match.group(0)
    return b"<" + match.group(1) + b">"


def flat_text(raw: bytes) -> str:
    """Every visible line of a page, from its bytes by pattern, whatever its nesting depth."""
    from trafilatura.utils import decode_file

    return html_block_text(decode_file(without(raw, (b"head",))))


def xml_blocks(body: Any) -> list[Block]:
    """Blocks from trafilatura's XML body: head, p, list/item, quote, table/row/cell, code."""
    blocks: list[Block] = []

    def inline(el: Any, *, verbatim: bool = False) -> str:
        # Source line breaks are spaces on the page; only <lb/> (from <br>) breaks a line.
        def shown(text: str | None) -> str:
            return (text or "") if verbatim else _WHITESPACE.sub(" ", text or "")

        parts = [shown(el.text)]
        for child in el:
            if child.tag == "lb":
                parts.append("\n")
            elif child.tag not in ("list", "table"):  # nested blocks are emitted on their own
                parts.append(inline(child, verbatim=verbatim))
            parts.append(shown(child.tail))
        return "".join(parts)

    def walk(el: Any, tight: bool) -> None:
        tag = el.tag
        if tag == "list":
            for i, item in enumerate(c for c in el if c.tag == "item"):
                blocks.append(Block(inline(item), tight=tight or i > 0))
                for sub in item:
                    if sub.tag in ("list", "table"):
                        walk(sub, True)
        elif tag == "table":
            for i, row in enumerate(el.iter("row")):
                cells = (" ".join(inline(c).split()) for c in row if c.tag == "cell")
                blocks.append(Block("\t".join(cells), tight=tight or i > 0, verbatim=True))
        elif tag == "head":
            rend = el.get("rend") or ""
            level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
            blocks.append(Block(inline(el), level=level))
        elif any(c.tag in _BLOCK_TAGS for c in el):
            for child in el:
                walk(child, tight)
        else:
            code = tag == "code"
            blocks.append(Block(inline(el, verbatim=code), tight=tight, verbatim=code))

    for element in body:
        walk(element, False)
    return blocks
