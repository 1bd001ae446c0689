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
_COMPANY_WORDS = (
    r"maker|makers|creator|creators|developer|developers|builder|owner|company|firm|lab|labs|"
    r"startup|start-up|outfit|business|team|parent|venture|shop|giant|employer"
)
# What a person is called by their company ("the Anthropic boss", "OpenAI's chief").
# Not "president" (a second leader at some labs) nor "chief scientist" or "head of research".
_LEADER_WORDS = (
    r"boss|chief executive|ceo|leader|founder|co-founder|cofounder|top executive|supremo|"
    r"chief(?!\s+(?:scientist|technology|financial|operating|research|product|people|"
    r"security|science|information|commercial|legal|of\b))|head(?!\s+of\b)"
)
# The same, before "of" ("the head of OpenAI"), where "head" and "chief" stand alone.
_LEADER_OF = r"boss|chief executive|ceo|chief|head|leader|founder|co-founder|cofounder"
_POSSESSIVE = r"(?:['’]s?)?"


def _names(values: tuple[str, ...]) -> str:
    """An alternation of names, longest first, each also matched by its last word for people."""
    return "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True))


def _rules() -> tuple[tuple[re.Pattern[str], str, bool], ...]:
    """(pattern, name, whether the match describes a company and is replaced by its name)."""
    rules: list[tuple[re.Pattern[str], str, bool]] = []
    for e in ENTITIES:
        # A leader is also known by the surname alone ("Altman's firm"); ambiguous surnames
        # (two Amodeis) still point to the same company.
        makers = e.products + e.leaders + tuple(p.split()[-1] for p in e.leaders)
        if makers:
            names = _names(makers)
            pattern = (
                rf"(?:\bthe\s+)?\b(?:{names}){_POSSESSIVE}[\s-]+(?:{_COMPANY_WORDS})\b"
                rf"|(?:\bthe\s+)?\b(?:{_COMPANY_WORDS})\s+"
                rf"(?:behind|that (?:makes|made|built|runs))\s+(?:the\s+)?(?:{names})\b"
            )  # "the ChatGPT maker", "Altman's lab", "the company behind Claude"
            rules.append((re.compile(pattern, re.IGNORECASE), e.name, True))
        if e.leaders:
            company = _names((e.name, *e.products[:1]))
            pattern = (
                rf"\b(?:{company}){_POSSESSIVE}\s+(?:{_LEADER_WORDS})\b"
                rf"|\b(?:{_LEADER_OF})\s+of\s+(?:the\s+)?(?:{company})\b"
            )  # "the Anthropic boss", "the head of OpenAI"
            rules.append((re.compile(pattern, re.IGNORECASE), e.leaders[0], False))
    return tuple(rules)


_RULES = _rules()


def expand_aliases(query: str) -> str:
    """The query with each described company named in place of its description.

    "the ChatGPT maker" becomes "OpenAI" (the description's words would pull toward the
    product); "the Anthropic boss" keeps its words and gains "Dario Amodei" after them. A
    name the query already holds is not added again; a query with no description comes back
    unchanged (the same string), so keyword and dense search see exactly what was typed.
    """
    out = query
    folded = query.casefold()
    added: set[str] = set()
    for pattern, name, company in _RULES:
        if name in added or name.casefold() in folded:
            continue
        m = pattern.search(out)
        if m is None:
            continue
        added.add(name)
        kept = "" if company else f"{m.group(0)} "
        out = f"{out[: m.start()]}{kept}{name}{out[m.end() :]}"
    return out

