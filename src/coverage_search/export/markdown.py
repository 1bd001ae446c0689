"""The answer as Markdown: cited sentences with their deep links, then each source's passage."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from coverage_search.export.searched import searched_differently
from coverage_search.records import Answer, SearchHit

# What CommonMark, GFM tables or math could read as syntax anywhere in a line is backslash-escaped;
# < > & become entities so no renderer sees a tag or an entity.
_PUNCT = set("\\`*_{}[]()#!|~$^")
_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=>])")  # a list item, quote or heading underline
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_SPACE = re.compile(r"\s+")


def md_text(text: str) -> str:
    """Document text as Markdown that renders as that text on one line."""
    out = []
    # Control characters (an ESC the question held) become spaces: the file may be shown in
    # a terminal, and no renderer shows them anyway.
    for c in _SPACE.sub(" ", "".join(c if c.isprintable() else " " for c in text)).strip():
        out.append(_ENTITIES.get(c) or (f"\\{c}" if c in _PUNCT else c))
    return _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", "".join(out))


def md_url(url: str | None) -> str | None:
    """An http(s) URL made safe for a Markdown link target, or None for anything else."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&*+,;=%~-._")


def md_link(label: str, url: str | None) -> str:
    href = md_url(url)
    return f"[{label}]({href})" if href else label


def _where(hit: SearchHit) -> str:
    parts = [hit.outlet or "unknown outlet", (hit.published or "undated")[:10]]
    if hit.page:
        parts.append(f"page {hit.page}")
    return md_text(", ".join(parts))


def answer_markdown(answer: Answer) -> str:
    """The question as a heading (and as searched, when that differs), the answer with [n]
    links to the quoted sentences, then the sources."""
    lines = [f"# {md_text(answer.question)}", ""]
    if named := searched_differently(answer):
        lines += [f"*Searched as: {md_text(named)}*", ""]
    if answer.found:
        quoted = [
            md_text(c.sentence) + " " + md_link("\\[" + str(c.number) + "\\]", c.link)
            for c in answer.sentences
        ]
        lines.append(" ".join(quoted))
    else:
        lines.append(f"*{md_text(answer.message or 'Nothing in the coverage answers this.')}*")
    if answer.hits:
        lines += ["", "## Sources", ""]
    for number, hit in enumerate(answer.hits, start=1):
        title = md_link(md_text(hit.title or hit.doc_id), hit.link)
        lines.append(f"{number}. {title} — {_where(hit)}")
        lines.append("")
        lines.append(f"   > {md_text(hit.text)}")
        if not md_url(hit.link):
            lines.append(f"   (corpus file {md_text(hit.doc_id)})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
