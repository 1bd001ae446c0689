"""Diversity: at most a few passages per document, one copy per story, filled when short."""

from __future__ import annotations

from collections.abc import Sequence


def diversify(
    ranked: Sequence[tuple[int, float]],
    doc_of: dict[int, str],
    *,
    story_of: dict[int, str] | None = None,
    k: int,
    per_group: int,
) -> list[tuple[int, float]]:
    """The first k passages, at most `per_group` per document (0: no cap) while others remain.

    With `story_of`, a story is shown through the first of its copies to rank: passages of its
    other copies are left out (the hit lists them as "also in"). When fewer than k documents
    match, the list is filled with the next passages of the documents already in it rather
    than cut short (asking for 5 passages of a one-article corpus gives 5), in rank order.
    """
    taken: list[tuple[int, float]] = []
    held_back: list[tuple[int, float]] = []
    counts: dict[str, int] = {}
    shown_copy: dict[str, str] = {}
    for pid, score in ranked:
        doc = doc_of.get(pid)
        if doc is None:
            continue
        if story_of is not None and shown_copy.setdefault(story_of.get(pid, doc), doc) != doc:
            continue
        if per_group > 0 and counts.get(doc, 0) >= per_group:
            held_back.append((pid, score))
            continue
        counts[doc] = counts.get(doc, 0) + 1
        taken.append((pid, score))
        if len(taken) >= k:
            return taken
    if not held_back:
        return taken
    order = {pid: i for i, (pid, _) in enumerate(ranked)}
    filled = taken + held_back[: k - len(taken)]
    return sorted(filled, key=lambda item: order[item[0]])
