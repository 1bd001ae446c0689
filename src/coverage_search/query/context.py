"""The document text around a hit's passage, as the app's "surrounding text" shows it."""

from __future__ import annotations

from coverage_search.arguments import whole_number
from coverage_search.engine.base import Engine
from coverage_search.errors import QueryError
from coverage_search.records import SearchHit


def passage_context(engine: Engine, hit: SearchHit, *, chars: int) -> tuple[str, str, str]:
    """(before, passage, after): the hit's passage with up to `chars` of text around it."""
    if not isinstance(hit, SearchHit):
        raise QueryError(f"hit must be a SearchHit from search(), not {type(hit).__name__}.")
    chars = whole_number(chars, "chars")
    doc = engine.document(hit.doc_id)
    text = doc.text if doc is not None else ""
    start, end = hit.start, hit.end
    if text[start:end] != hit.text:
        # A hit shown through an exact copy (a filter matched the copy) carries the indexed
        # document's offsets; the copy's text may differ in case, spacing or punctuation.
        start = text.find(hit.text)
        if start < 0:
            return "", hit.text, ""
        end = start + len(hit.text)
    return text[max(0, start - chars) : start], hit.text, text[end : end + chars]
