"""Irregular word forms for keyword search: "leave" also finds "left", "men" also "man".

The Porter stemmer joins "leaves" and "leaving" to "leave" but not "left", and a reader asks
"Why did Amodei leave OpenAI?" of a story that says he "left the company". Each group below is
one word's irregular forms; a query term in a group also searches the others.
"""

from __future__ import annotations

from collections.abc import Sequence

# Verbs whose past forms a question's present tense misses, and plurals that do not add -s.
# Forms that are common words of their own are left out: "lead" (the metal), "saw", "rose",
# "fell", "lay", "bear" (a market), "found" (to found a company), "left" is kept: the past
# of "leave" is how news reports every departure.
_GROUPS = """
arise arose arisen; become became; begin began begun; bite bit bitten; blow blew blown;
break broke broken; bring brought; build built; buy bought; catch caught; choose chose chosen;
come came; deal dealt; do did done; draw drew drawn; drink drank drunk; drive drove driven;
eat ate eaten; feed fed; feel felt; fight fought; flee fled; fly flew flown; forbid forbade
forbidden; forget forgot forgotten; forgive forgave forgiven; freeze froze frozen; get got
gotten; give gave given; go went gone; grow grew grown; hang hung; hear heard; hide hid hidden;
hold held; keep kept; know knew known; leave left; lend lent; lose lost; make made; mean meant;
meet met; pay paid; ride rode ridden; ring rang rung; rise risen; run ran; say said; see seen;
seek sought; sell sold; send sent; shake shook shaken; shine shone; shoot shot; show shown;
sing sang sung; sink sank sunk; sit sat; sleep slept; speak spoke spoken; spend spent; stand
stood; steal stole stolen; stick stuck; sting stung; strike struck; strive strove striven;
swear swore sworn; swim swam swum; take took taken; teach taught; tear tore torn; tell told;
think thought; throw threw thrown; understand understood; wake woke woken; wear wore worn;
weep wept; win won; withdraw withdrew withdrawn; write wrote written;
child children; man men; woman women; person people; foot feet; tooth teeth; mouse mice;
goose geese; crisis crises; analysis analyses; thesis theses; criterion criteria;
phenomenon phenomena
"""
_FORMS: dict[str, tuple[str, ...]] = {}
for _group in _GROUPS.split(";"):
    _words = tuple(_group.split())
    for _word in _words:
        _FORMS[_word] = _words


def with_inflections(terms: Sequence[str]) -> list[str]:
    """`terms` (casefolded) with each one's irregular forms after it, once each."""
    out: dict[str, None] = {}
    for term in terms:
        out[term] = None
        for form in _FORMS.get(term, ()):
            out.setdefault(form, None)
    return list(out)
