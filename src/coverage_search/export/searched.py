"""The question as searched, recorded by every export only when naming companies changed it."""

from __future__ import annotations

from coverage_search.records import Answer


def searched_differently(answer: Answer) -> str:
    """`answer.searched_as` when it says something the question does not, else ""."""
    named = answer.searched_as.strip()
    return named if named and named != answer.question.strip() else ""
