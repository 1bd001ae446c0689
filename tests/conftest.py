"""Shared fixtures: the real bundled model (loaded once), tiny corpora and built indexes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from coverage_search.engine.base import DocumentSource

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLE = REPO / "corpus" / "windowsforum-amodei-openai-exit.md"
SHARED_EVAL = REPO.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def embedder():
    """The real bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    from coverage_search.embed.embedder import get_embedder

    model = get_embedder()
    model.encode(["warm up"])
    return model


def write_doc(folder: Path, name: str, body: str, **meta: object) -> Path:
    """Write a Markdown document with YAML front matter into `folder`."""
    import yaml

    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    head = (
        f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---\n\n" if meta else ""
    )
    path.write_text(head + body, encoding="utf-8")
    return path


SMALL_CORPUS = {
    "anthropic-tokens.md": (
        "# Anthropic warns on tokenized shares\n\n"
        "Anthropic said that unauthorized transfers of tokenized pre-IPO shares would be void "
        "under its transfer restrictions. Tokens tied to the company fell sharply after the "
        "warning.\n\n"
        "## Market reaction\n\n"
        "Traders on Solana had bought synthetic exposure to the startup's valuation.",
        {
            "title": "Anthropic warns on tokenized shares",
            "url": "https://example.com/tokens",
            "outlet": "Crypto Briefing",
            "published": "2026-05-20",
            "language": "en",
        },
    ),
    "openai-exit.md": (
        "# Why Dario Amodei left OpenAI\n\n"
        "Dario Amodei left OpenAI in December 2020 with a group of colleagues. He co-founded "
        "Anthropic in 2021 to build safety-first AI systems.\n\n"
        "## Scaling laws\n\n"
        "Amodei believed scaling was real enough to be dangerous.",
        {
            "title": "Why Dario Amodei left OpenAI",
            "url": "https://news.example.org/amodei",
            "outlet": "Axios",
            "published": "2026-06-16",
            "language": "en",
        },
    ),
    "cooking.md": (
        "# Slow-cooked tomato sauce\n\n"
        "Simmer the tomatoes with garlic and olive oil for three hours. Add basil at the end.",
        {
            "title": "Slow-cooked tomato sauce",
            "outlet": "Food Weekly",
            "published": "2025-01-10",
            "language": "en",
        },
    ),
    "elpais.md": (
        "# Anthropic y la seguridad\n\n"
        "Dario Amodei fundó Anthropic tras dejar OpenAI, con la seguridad como prioridad.",
        {
            "title": "Anthropic y la seguridad",
            "url": "https://elpais.com/tecnologia/anthropic",
            "outlet": "El País",
            "published": "2026-06-18",
            "language": "es",
        },
    ),
}

# Only this story holds the words "ChatGPT maker"; named (query/aliases.py), the description is
# OpenAI, which it never says: keyword search shows whether a query was searched as typed.
CAFETERIA = {
    "maker-cafeteria.md": (
        "# Cafeteria news\n\nThe ChatGPT maker hired a new chef for its cafeteria in San "
        "Francisco, staff said.",
        {"title": "Cafeteria news", "outlet": "Kitchen Times", "published": "2026-03-02"},
    ),
}


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """Four short documents from four outlets, in two languages."""
    folder = tmp_path / "corpus"
    for name, (body, meta) in SMALL_CORPUS.items():
        write_doc(folder, name, body, **meta)
    return folder


@pytest.fixture()
def build_index(embedder) -> Callable[..., Path]:
    """Build an index for a corpus folder with the real model; returns the index folder."""
    from coverage_search import CoverageIndex

    def _build(corpus: Path, index: Path | None = None) -> Path:
        index = index or corpus.parent / "index"
        CoverageIndex.build(corpus, index, progress=False)
        return index

    return _build


@pytest.fixture()
def seed_corpus(tmp_path: Path) -> Path:
    """A corpus folder holding just the real seed article."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    return folder


AMODEI_BODY = SMALL_CORPUS["openai-exit.md"][0]
COVERAGE_EXTRA = {
    # The Axios story syndicated by another outlet a day later: one story, two outlets.
    "bloomberg-copy.md": (
        AMODEI_BODY,
        {
            "title": "Why Dario Amodei left OpenAI",
            "url": "https://bloomberg.example/amodei",
            "outlet": "Bloomberg",
            "published": "2026-06-17",
            "language": "en",
        },
    ),
    "techcrunch-split.md": (
        "# Amodei explains the OpenAI split\n\n"
        "In an interview, Dario Amodei said he left OpenAI because he wanted safety research to "
        "lead. Anthropic was the result.",
        {
            "title": "Amodei explains the OpenAI split",
            "url": "https://techcrunch.example/amodei-split",
            "outlet": "TechCrunch",
            "published": "2026-06-20",
            "language": "en",
        },
    ),
    "fortune-undated.md": (
        "# Amodei interview\n\nDario Amodei explained why he left OpenAI to found Anthropic.",
        {"title": "Amodei interview", "outlet": "Fortune", "language": "en"},
    ),
}


def write_coverage_corpus(folder: Path) -> Path:
    """SMALL_CORPUS plus a syndicated copy, a later story and an undated one, all on Amodei."""
    for name, (body, meta) in {**SMALL_CORPUS, **COVERAGE_EXTRA}.items():
        write_doc(folder, name, body, **meta)
    return folder


def stored_documents(items: Sequence[object], folder: Path) -> DocumentSource:
    """The Documents among `items` as a live build holds them: a real build database, opened."""
    import numpy as np

    from coverage_search.engine.base import BuildContent
    from coverage_search.engine.factory import open_documents
    from coverage_search.engine.local.engine import DATABASE
    from coverage_search.engine.local.writer import write_content
    from coverage_search.records import Document

    docs = [d for d in items if isinstance(d, Document)]
    folder.mkdir(parents=True, exist_ok=True)
    content = BuildContent(
        documents=docs,
        passages=[[] for _ in docs],
        vectors=np.zeros((0, 384), dtype=np.float32),
        story_ids={},
        indexed_as=list(range(len(docs))),
        stemming=True,
        fingerprint="",
    )
    write_content(folder / DATABASE, content, keyword_index=False, term_counts=False)
    return open_documents(folder, {"engine": "local"})


@pytest.fixture()
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The doc ids of the files parsed (not answered by the build cache)."""
    from coverage_search.sources import scan

    calls: list[str] = []
    real = scan._parse

    def counting(job: object) -> object:
        calls.append(job.doc_id)
        return real(job)

    monkeypatch.setattr(scan, "_parse", counting)
    return calls
