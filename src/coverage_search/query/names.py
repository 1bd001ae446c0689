"""Names a question uses that the coverage never mentions: a sign it asks about something else."""

from __future__ import annotations

import re
from collections.abc import Sequence

from coverage_search.engine.base import Engine
from coverage_search.query.aliases import expand_aliases

# "What was the euro area's inflation rate in 2023?" comes as close to TIME 1963 (best
# sentence cosine 0.509, bar 0.391) as many questions it answers, but no passage holds "2023".
# A name no passage holds raises the refusal bar rather than refusing outright: a reader may
# call Microsoft "Redmond". 0.12 was chosen when a seed tune question capped the margin at
# 0.14; with today's names no margin up to 0.2 refuses a QA dev, fresh or training question
# (0.3 does), and 0.12 keeps room for unseen ones (bench/eval_unknown_names.py,
# results/unknown_names.md; the euro question itself is refused by 0.002).
UNKNOWN_NAME_MARGIN = 0.12
MAX_NAMES = 32  # looked up per question: a pasted paragraph is not a list of names
MAX_SHOWN = 40  # characters of a name a refusal quotes
_TOKEN = re.compile(r"[^\W_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$", re.IGNORECASE)
_PRONOUNS = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "i'd", "i’d", "i'll", "i’ll"})
_SENTENCE_END = frozenset(".!?:;")
# A period after these ends no sentence: "Dr. Oppenheimer", "Gen. de Gaulle".
_TITLES = frozenset(
    "mr mrs ms dr st gen sen gov rep jr sr prof lt col capt sgt rev mt ft vs".split()  # noqa: SIM905
)
# Dotted initials are one name: "U.S." is "US" (the coverage may write either).
_INITIALS = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_YEAR = re.compile(r"[12]\d{3}")
_WORD = re.compile(r"[^\W_]+")


def question_names(question: str) -> list[str]:
    """The words of `question` that name something: capitalized inside a sentence, all
    capitals, a year ("2023") or letters with digits ("H100"); once each, in order.

    A question typed in capitals or title case ("Why Did Amodei Leave?") says nothing by its
    capitals, so then only years and letters with digits count. Other numbers are no names:
    prose writes the same number many ways ("three", "1,000", "$20bn").
    """
    question = _INITIALS.sub(lambda m: m.group(0).replace(".", ""), question)
    tokens = list(_TOKEN.finditer(question))
    inner = [t.group(0) for t in tokens[1:] if t.group(0)[0].isalpha()]
    capitals = sum(w[0].isupper() for w in inner)
    by_case = not question.isupper() and not (len(inner) >= 3 and capitals > 0.8 * len(inner))
    names: list[str] = []
    previous, previous_end = "", 0
    for i, match in enumerate(tokens):
        word = _POSSESSIVE.sub("", match.group(0))
        gap = question[previous_end : match.start()]
        after_title = gap.strip() == "." and (len(previous) == 1 or previous.casefold() in _TITLES)
        starts = i == 0 or (any(c in _SENTENCE_END for c in gap) and not after_title)
        previous, previous_end = word, match.end()
        for part in filter(None, word.split("-")):
            folded = part.casefold()
            if folded in _PRONOUNS or folded in _TITLES or len(part) == 1:
                continue
            if not part.replace("’", "'").isascii():  # words run together in some scripts
                continue
            digits = any(c.isdigit() for c in part)
            named = (
                bool(_YEAR.fullmatch(part))
                if part.isdigit()
                else (digits or (by_case and not starts and part[0].isupper()))
            )
            if named and part not in names:
                names.append(part)
    return names[:MAX_NAMES]


def unknown_names(engine: Engine, question: str, *, aliases: bool = True) -> list[str]:
    """The names of `question` that no passage of the index holds (question_names).

    With `aliases`, a description the search names is no name of its own: "the Sora maker"
    is searched as OpenAI, so "Sora" need not be in the coverage.
    """
    names = question_names(question)
    if aliases:
        kept = set(question_names(expand_aliases(question)))
        names = [n for n in names if n in kept]
    parts = {name: _WORD.findall(name.casefold()) for name in names}
    # At most MAX_NAMES terms (Milvus: two requests); a name past them counts as known.
    terms = list(dict.fromkeys(t for words in parts.values() for t in words))[:MAX_NAMES]
    if not terms:
        return []
    held = dict(zip(terms, engine.held_terms(terms), strict=True))
    return [
        name
        for name, words in parts.items()
        if any(not held.get(w, True) for w in words) and not _maybe_dotted(name)
    ]


def _maybe_dotted(name: str) -> bool:
    # "UK" or "OAS" may be written "U.K." or "O.A.S." in the coverage, which the index holds as
    # one-letter words: a short acronym's absence says nothing.
    return name.isalpha() and name.isupper() and len(name) <= 3


def unknown_names_note(names: Sequence[str]) -> str:
    """Say which names the coverage never mentions, for a refusal ("" for none)."""
    if not names:
        return ""
    shown = ", ".join(f"“{n[:MAX_SHOWN]}”" for n in names[:3])
    more = f" or {len(names) - 3} more" if len(names) > 3 else ""
    return f"The coverage never mentions {shown}{more}. "
