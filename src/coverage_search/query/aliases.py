"""Descriptions of AI-industry companies and people → their names, added to the query.

News readers name a company by what it makes or who runs it ("the ChatGPT maker", "Sam
Altman's firm") and a person by their company ("the Anthropic boss"), while the coverage uses
the names. Neither keyword search nor MiniLM links the two reliably, so a description found in
a query is replaced by the name ("the ChatGPT maker" → "OpenAI"). Only a
description triggers it: a bare "ChatGPT" stays as it is, so a question about the product is
not turned into one about the company. Measured on the seed dev set (bench/results/aliases.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ENTITIES", "Entity", "expand_aliases"]


@dataclass(frozen=True, slots=True)
class Entity:
    """A company with what it makes and who leads it (leaders: the best known first)."""

    name: str
    products: tuple[str, ...] = ()
    leaders: tuple[str, ...] = ()


ENTITIES = (
    Entity("OpenAI", ("ChatGPT", "GPT-4", "GPT-4o", "GPT-5", "GPT", "DALL-E", "Sora", "Codex"),
           ("Sam Altman", "Greg Brockman")),
    Entity("Anthropic", ("Claude",), ("Dario Amodei", "Daniela Amodei")),
    Entity("Google", ("Gemini", "Bard"), ("Sundar Pichai",)),
    Entity("Google DeepMind", ("AlphaFold", "AlphaGo"), ("Demis Hassabis",)),
    Entity("Meta", ("Llama",), ("Mark Zuckerberg",)),
    # Elon Musk runs several companies: "Musk's company" names none of them for sure.
    Entity("xAI", ("Grok",)),
    Entity("Microsoft", ("Copilot", "Bing", "Windows", "Azure"), ("Satya Nadella",)),
    Entity("Mistral AI", ("Le Chat",), ("Arthur Mensch",)),
    Entity("Nvidia", ("CUDA", "H100", "Blackwell"), ("Jensen Huang",)),
    Entity("Apple", ("iPhone", "Siri"), ("Tim Cook",)),
    Entity("Amazon", ("Alexa", "AWS"), ("Andy Jassy",)),
    Entity("DeepSeek", ("DeepSeek-R1",), ("Liang Wenfeng",)),
    Entity("Perplexity", (), ("Aravind Srinivas",)),
    Entity("Stability AI", ("Stable Diffusion",), ()),
    Entity("Safe Superintelligence", (), ("Ilya Sutskever",)),
)  # fmt: skip

# What a company is called by its product or its leader ("the ChatGPT maker", "Altman's lab").
# Not "team", "business", "developers" or "builder": "the Codex team", "ChatGPT Business" and
# "Windows developers" are a product's part, plan or users, not its maker.
_COMPANY_WORDS = (
    r"maker|makers|creator|creators|owner|company|firm|lab|labs|startup|start-up|outfit|"
    r"employer|parent"
)
# What a person is called by their company ("the Anthropic boss"). Not "president" (a second
# leader at some labs), nor a bare "chief" or "head" ("chief scientist", "head of research"),
# nor a role followed by a name ("OpenAI co-founder Ilya Sutskever" names someone else).
_LEADER_WORDS = r"boss|chief executive|ceo|leader|founder|co-founder|cofounder|top executive"
# The same before "of" ("the head of OpenAI"), where "head" and "chief" stand alone.
_LEADER_OF = r"boss|chief executive|ceo|chief|head|leader|founder|co-founder|cofounder"
_POSSESSIVE = r"(?:['’]s?)?"
_DASH = r"[\s\-\u2010\u2011\u2013\u2014]+"  # a space or any hyphen between the words
# The company ends the phrase: not "OpenAI's safety team", not "Google DeepMind".
_ENDS = r"(?!['’]|\w|\s+[A-Z])"
# Surnames too common to name a company on their own ("Cook's shop", "Huang's lab").
_AMBIGUOUS_SURNAMES = frozenset({"Cook", "Huang", "Wenfeng", "Liang", "Mensch"})


def _names(values: tuple[str, ...]) -> str:
    """An alternation of names, longest first (names are matched as written, case and all)."""
    return "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True))


def _rules() -> tuple[tuple[re.Pattern[str], str, bool], ...]:
    """(pattern, name, whether the match describes a company and is replaced by its name).

    Names match case-sensitively (proper nouns: "the cook's company" is nobody's), the
    descriptive words in any case. Entities with longer names come first ("Google DeepMind"
    before "Google").
    """
    rules: list[tuple[re.Pattern[str], str, bool]] = []
    for e in sorted(ENTITIES, key=lambda e: -len(e.name)):
        surnames = tuple(
            p.split()[-1] for p in e.leaders if p.split()[-1] not in _AMBIGUOUS_SURNAMES
        )
        makers = e.products + e.leaders + surnames
        if makers:
            names = _names(makers)
            pattern = (
                rf"(?:\b(?i:the)\s+)?\b(?:{names}){_POSSESSIVE}{_DASH}(?i:{_COMPANY_WORDS})\b"
                rf"|(?:\b(?i:the)\s+)?\b(?i:{_COMPANY_WORDS})\s+"
                rf"(?i:behind|that (?:makes|made|built|runs))\s+(?:(?i:the)\s+)?(?:{names})\b"
            )  # "the ChatGPT maker", "Altman's lab", "the company behind Claude"
            rules.append((re.compile(pattern), e.name, True))
        if e.leaders:
            company = re.escape(e.name)
            pattern = (
                rf"\b{company}{_POSSESSIVE}\s+(?i:{_LEADER_WORDS})\b(?!\s+[A-Z])"
                rf"|\b(?i:{_LEADER_OF})\s+(?i:of)\s+(?:(?i:the)\s+)?{company}{_ENDS}"
            )  # "the Anthropic boss", "the head of OpenAI"
            rules.append((re.compile(pattern), e.leaders[0], False))
    return tuple(rules)


_RULES = _rules()


def _holds(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def expand_aliases(query: str) -> str:
    """The query with each described company named in place of its description.

    "the ChatGPT maker" becomes "OpenAI" (the description's words would pull toward the
    product), every time it is said; "the Anthropic boss" keeps its words and gains "Dario
    Amodei" after them, once. A name the query already holds (as a word) is not added again;
    a query with no description comes back unchanged (the same string), so keyword and dense
    search see exactly what was typed.
    """
    out = query
    for pattern, name, company in _RULES:
        if _holds(query, name) or not pattern.search(out):
            continue
        if company:
            out = pattern.sub(name, out)
        else:
            m = pattern.search(out)
            assert m is not None
            out = f"{out[: m.end()]} {name}{out[m.end() :]}"
    return out
