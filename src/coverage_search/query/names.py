"""Names a question uses that the coverage never mentions: a sign it asks about something else."""

from __future__ import annotations

import re
from collections.abc import Sequence

from coverage_search.engine.base import Engine
from coverage_search.records import SearchFilters

# "What was the euro area's inflation rate in 2023?" comes as close to TIME 1963 (best
# sentence cosine 0.51, bar 0.39) as many questions it answers, but no passage holds "2023". A
# name no passage holds raises the refusal bar rather than refusing outright: a reader may call
# Microsoft "Redmond". Of the margins tried (0.05-0.3), 0.14 was the largest that refused no
# answerable question of the QA tune halves (0.2 refused the seed article's "Why are shops
# running Microsoft's desktop OS …", best cosine 0.44 against a bar of 0.25); 0.12 answers the
# same and keeps more room (bench/eval_unknown_names.py, results/unknown_names.md).
UNKNOWN_NAME_MARGIN = 0.12
MAX_NAMES = 32  # looked up per question: a pasted paragraph is not a list of names
_TOKEN = re.compile(r"[^\W_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$", re.IGNORECASE)
_PRONOUNS = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "i'd", "i’d", "i'll", "i’ll"})
_SENTENCE_END = frozenset(".!?:;")
_WORD = re.compile(r"[^\W_]+")


def question_names(question: str) -> list[str]:
    """The words of `question` that name something: capitalized inside a sentence, all
    capitals, or a number of two characters or more ("2023", "H100"); once each, in order.

    A question typed in capitals or title case ("Why Did Amodei Leave?") says nothing by its
    capitals, so then only words with digits count.
    """
    tokens = list(_TOKEN.finditer(question))
    inner = [t.group(0) for t in tokens[1:] if t.group(0)[0].isalpha()]
    capitals = sum(w[0].isupper() for w in inner)
    by_case = not question.isupper() and not (len(inner) >= 4 and capitals > 0.8 * len(inner))
    names: list[str] = []
    previous_end = 0
    for i, match in enumerate(tokens):
        word = _POSSESSIVE.sub("", match.group(0))
        starts = i == 0 or any(c in _SENTENCE_END for c in question[previous_end : match.start()])
        previous_end = match.end()
        for part in filter(None, word.split("-")):
            if part.casefold() in _PRONOUNS:
                continue
            # One digit is no name: prose spells small numbers out ("three reasons").
            named = (len(part) > 1 and any(c.isdigit() for c in part)) or (
                by_case and not starts and (part[0].isupper() or part.isupper())
            )
            if named and part not in names:
                names.append(part)
    return names[:MAX_NAMES]


def unknown_names(engine: Engine, question: str) -> list[str]:
    """The names of `question` that no passage of the index holds (question_names)."""
    parts = {name: _WORD.findall(name.casefold()) for name in question_names(question)}
    # At most MAX_NAMES terms, each looked up at most twice; a name past them counts as known.
    terms = list(dict.fromkeys(t for words in parts.values() for t in words))[:MAX_NAMES]
    if not terms:
        return []
    docs, _ = engine.term_docs(terms)
    held = {t: n > 0 for t, n in zip(terms, docs, strict=True)}
    for term in terms:
        # An engine may count a rare term as 0 (the side database of the Milvus engine keeps
        # only terms in a thousandth of the passages): a name is rare, so ask the keyword index.
        if not held[term]:
            held[term] = bool(engine.keyword([term], SearchFilters(), limit=1))
    return [name for name, ws in parts.items() if any(not held.get(w, True) for w in ws)]


def unknown_names_note(names: Sequence[str]) -> str:
    """Say which names the coverage never mentions, for a refusal ("" for none)."""
    if not names:
        return ""
    shown = ", ".join(f"“{n}”" for n in names[:3])
    more = f" or {len(names) - 3} more" if len(names) > 3 else ""
    return f"The coverage never mentions {shown}{more}. "
