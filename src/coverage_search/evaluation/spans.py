"""Whether a text holds a QA question's answer span, as a reader would judge it by eye."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

from coverage_search.errors import EvalDataError
from coverage_search.sources.reading import visible


class Question(Protocol):
    """What span checks read of a question (qa.QAQuestion)."""

    @property
    def answer_span(self) -> str: ...

    @property
    def doc_id(self) -> str | None: ...


Q = TypeVar("Q", bound=Question)

# A span typed by hand says "Amodei's" and "2020-2021" where the article printed "Amodei’s"
# and "2020–2021": typographic quotes and dashes match their plain forms.
_PLAIN = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`", "'"),
        **dict.fromkeys("“”„‟″", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),  # invisible
    }
)


def normalize(text: str) -> str:
    """Text compared for span matching: case, runs of whitespace, Unicode forms (NFKC),
    invisible characters and typographic quotes and dashes do not matter."""
    plain = unicodedata.normalize("NFKC", text).translate(_PLAIN)
    return " ".join(plain.split()).casefold()


def has_words(text: str) -> bool:
    """Whether a question or span holds something to find: zero-width spaces normalize to ""
    (which every passage holds), and controls or direction marks alone are no question (the
    search refused it as "Type a question", naming no line of the file)."""
    return bool(normalize(text)) and visible(text)


def holds(text: str, span: str) -> bool:
    """True when `text` contains `span` (normalized)."""
    return normalize(span) in normalize(text)


def check_spans(questions: Sequence[Question], texts: Mapping[str, str]) -> None:
    """EvalDataError naming the first question whose span is not in its document (or any)."""
    normalized = {doc_id: normalize(text) for doc_id, text in texts.items()}
    for n, q in enumerate(questions, start=1):
        span = normalize(q.answer_span)
        if q.doc_id is not None:
            if q.doc_id not in normalized:
                raise EvalDataError(
                    f"Question {n} names document {q.doc_id!r}, which is not in the corpus."
                )
            if span not in normalized[q.doc_id]:
                raise EvalDataError(
                    f"Question {n}: its answer_span is not in document {q.doc_id!r}. "
                    "Copy the span from the document's text."
                )
        elif not any(span in text for text in normalized.values()):
            raise EvalDataError(
                f"Question {n}: its answer_span is in no document of the corpus. "
                "Copy the span from a document's text."
            )


def resolve_doc_ids(questions: Sequence[Q], doc_ids: Collection[str]) -> list[Q]:
    """`questions` with each doc_id the corpus does not hold as written taken for the one
    document it can only mean: "exit" or "corpus/exit.md" for "exit.md" (case aside)."""
    exact = set(doc_ids)

    def forms(doc_id: str) -> set[str]:
        path = PurePosixPath(doc_id.replace("\\", "/"))
        return {doc_id.casefold(), path.name.casefold(), path.stem.casefold()}

    by_form: dict[str, set[str]] = {}
    for doc_id in exact:
        for form in forms(doc_id):
            by_form.setdefault(form, set()).add(doc_id)
    out = []
    for q in questions:
        if q.doc_id is not None and q.doc_id not in exact:
            meant = set().union(*(by_form.get(f, set()) for f in forms(q.doc_id)))
            if len(meant) == 1:
                q = dataclasses.replace(q, doc_id=meant.pop())  # type: ignore[type-var]
        out.append(q)
    return out
