"""RIS entries (for Zotero, EndNote and the like) for the articles an answer cites."""

from __future__ import annotations

import re

from coverage_search.export.searched import searched_differently
from coverage_search.query.coverage import day_of
from coverage_search.records import Answer, SearchHit
from coverage_search.sources.urls import is_web_url

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
MAX_FIELD = 2000  # characters per value: a reference manager needs no whole article


def ris_value(value: str) -> str:
    """One line of text: no line break or control character can start a new tag."""
    return " ".join(_CONTROL.sub(" ", value).split())[:MAX_FIELD]


def _entry(hit: SearchHit, quotes: list[str], searched: str) -> list[str]:
    lines = ["TY  - NEWS"]

    def tag(name: str, value: str | None) -> None:
        if value and (clean := ris_value(value)):
            lines.append(f"{name}  - {clean}")

    tag("TI", hit.title or hit.doc_id)
    tag("T2", hit.outlet)
    for author in (hit.author or "").split(";"):
        tag("AU", author)
    day = day_of(hit.published)
    if day is not None:
        tag("PY", str(day.year))
        tag("DA", day.strftime("%Y/%m/%d"))
    tag("UR", hit.url if is_web_url(hit.url) else None)  # a javascript: URL is no address
    tag("LA", hit.language)
    for quote in quotes:
        tag("N1", quote)
    tag("N1", searched)
    lines.append("ER  - ")
    return lines


def answer_ris(answer: Answer) -> str:
    """One entry per cited article (per listed source when nothing was quoted), in order.

    When naming described companies changed the question, each entry notes how it was searched.
    """
    named = searched_differently(answer)
    searched = f"Searched as: {named} (asked: {answer.question})" if named else ""
    cited = {c.number for c in answer.sentences}
    lines: list[str] = []
    done: set[str] = set()
    for number, hit in enumerate(answer.hits, start=1):
        if (cited and number not in cited) or hit.doc_id in done:
            continue
        done.add(hit.doc_id)
        # An article may be cited through several of its passages: all its quotes go in.
        quotes = [
            c.sentence for c in answer.sentences if answer.hits[c.number - 1].doc_id == hit.doc_id
        ]
        lines += [*_entry(hit, quotes, searched), ""]
    return "\r\n".join(lines)
