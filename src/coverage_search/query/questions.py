"""A question rewritten toward the sentence that answers it, for the dense query vector.

English only and rule-based. "strip" drops the leading wh-word (with a preposition before it
and a quantifier after it: "In which", "How many") and the auxiliary that follows the
wh-phrase: "Why did Dario Amodei leave OpenAI?" → "Dario Amodei leave OpenAI"; an opening
clause up to a comma stays ("At OpenAI, what …?"). "template" adds a cue word by the
question's kind (evidence.question_kind): "Dario Amodei leave OpenAI because". Text that does
not end on "?" or open on a wh-word ("What's new?" does not) comes back unchanged.
"""

from __future__ import annotations

import re

from coverage_search.query.evidence import question_kind

_PREPOSITION = (
    r"(?:in|on|at|for|from|by|with|to|of|during|after|before|since|until|under|over|"
    r"according to)"
)
_WH = r"(?:why|how|when|where|who|whom|whose|what|which)"
_QUANTIFIER = r"(?:many|much|long|far|big|large|old|often|soon)"
_AUX = (
    r"(?:(?:do|does|did|is|are|was|were|has|have|had|could|should|would|must|might)"
    r"(?:n[’']t)?|can(?:[’']t|not)?|won[’']t|will|may|shall)"
)
_WORD = r"[\w'’-]+"
# An opening clause up to a comma ("At OpenAI, what …") is kept; then the wh-word.
_START = (
    rf"^\s*(?P<lead>[^,?]{{1,80}},\s+)?(?:{_PREPOSITION}\s+)?"
    rf"(?:how(?:\s+{_QUANTIFIER})?|{_WH})\b(?![’'?-])"  # not "What's", "How-to", "Which?"
)
# The wh-phrase's own words (up to six: "What kind of lab did"), then the auxiliary.
_WITH_AUX = re.compile(
    rf"{_START}(?P<phrase>(?:\s+(?!{_AUX}\b){_WORD}){{0,6}}?)\s+(?P<aux>{_AUX})(?!\w)"
    rf"(?P<not>\s+not\b)?",
    re.IGNORECASE,
)
_ALONE = re.compile(_START, re.IGNORECASE)  # a subject question: "Who admitted …"
# The cue each kind of question gets at the end of its stripped form.
CUES = {"why": "because", "number": "number", "when": "in", "where": "in", "how": "by"}


def stripped(question: str) -> str:
    """`question` without its wh-word and auxiliary, or unchanged when it is no question (no
    "?" at the end, no wh-word at the start)."""
    if not question.rstrip().endswith("?"):
        # "WHO warns of measles", "Where the Crawdads Sing", a claim's "…, which causes …":
        # headlines and statements open on wh-words too
        return question
    body = question.strip().rstrip("?").rstrip()
    m = _WITH_AUX.match(body)
    if m is not None:
        aux = m.group("aux").casefold()
        negated = m.group("not") is not None or aux.endswith(("'t", "’t")) or aux == "cannot"
        parts = [m.group("phrase"), "not" if negated else "", body[m.end() :]]
    elif (m := _ALONE.match(body)) is not None:
        parts = [body[m.end() :]]
    else:
        return question
    lead = (m.group("lead") or "").strip()
    rest = " ".join(p.strip(" ,") for p in parts if p.strip(" ,"))
    if len(rest.split()) < 2:  # "Who did it?" → "it" says nothing the question does not
        return question
    return f"{lead} {rest}" if lead else rest


def templated(question: str) -> str:
    """The stripped question followed by its kind's cue ("… because"), or unchanged."""
    rest = stripped(question)
    if rest == question:
        return question
    cue = CUES.get(question_kind(question))
    return f"{rest} {cue}" if cue else rest


def rewritten(question: str, rewrite: str) -> str:
    """`question` as `rewrite` (one of settings.REWRITES) words it; "off" leaves it as it is."""
    if rewrite.startswith("strip"):
        return stripped(question)
    if rewrite.startswith("template"):
        return templated(question)
    return question
