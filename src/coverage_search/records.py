"""Typed, frozen records that pass between pipeline stages and out of the public API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """Coverage a document cites (from its front matter `related:` list)."""

    url: str
    outlet: str | None = None
    role: str | None = None
    title: str | None = None
    published: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """One source in the corpus, with its plain text and metadata.

    `text` is what passages are cut from and what their spans index into. For PDFs,
    `page_starts[i]` is the offset in `text` where page i+1 begins.
    """

    doc_id: str  # path relative to the corpus folder, with forward slashes
    path: str  # same as doc_id for files; kept apart so URL-added documents can differ later
    title: str
    text: str
    format: str  # "markdown", "text", "html", "pdf"
    content_hash: str  # sha256 of the raw file bytes
    url: str | None = None
    outlet: str | None = None
    published: str | None = None  # ISO date "YYYY-MM-DD" (or full ISO datetime)
    author: str | None = None
    language: str | None = None
    related: tuple[RelatedLink, ...] = ()
    page_starts: tuple[int, ...] = ()
    # Headings found in the text: (offset in text, level, heading text), in order.
    headings: tuple[tuple[int, int, str], ...] = ()
    # What of the file's own metadata could not be read (an unreadable date), for the build's
    # report: the document is indexed without it, and the user is told which file to fix.
    notes: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based PDF page that holds `offset`, or None for non-paged documents."""
        if not self.page_starts:
            return None
        page = 1
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i + 1
            else:
                break
        return page


@dataclass(frozen=True, slots=True)
class Skipped:
    """A corpus file that was not indexed, and why (unsupported format or unreadable)."""

    path: str
    reason: str
    error: bool  # True: unreadable file (reported as a problem); False: simply not a format we read


@dataclass(frozen=True, slots=True)
class Notice:
    """A corpus file that was indexed, but with something in it ignored, and what to fix."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A contiguous span of a document's text: `document.text[start:end] == text`."""

    doc_id: str
    ordinal: int  # position of the passage within its document
    text: str
    start: int
    end: int
    heading: str | None = None
    page: int | None = None
    embed_text: str = ""  # what the model reads: title and heading as context, then `text`


@dataclass(frozen=True, slots=True)
class RetrieverHit:
    """Where one retriever placed a passage: 1-based rank and its raw score."""

    rank: int
    score: float


@dataclass(frozen=True, slots=True)
class StoryCopy:
    """Another published copy of the same story (syndication), shown as "also in"."""

    doc_id: str
    title: str
    outlet: str | None
    url: str | None
    published: str | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One passage in a result list, with everything needed to show and cite it."""

    rank: int
    score: float
    text: str
    passage_id: int
    doc_id: str
    title: str
    outlet: str | None
    published: str | None
    author: str | None
    url: str | None
    language: str | None
    heading: str | None
    start: int
    end: int
    page: int | None
    link: str
    semantic: RetrieverHit | None = None
    keyword: RetrieverHit | None = None
    related: tuple[RelatedLink, ...] = ()
    also_in: tuple[StoryCopy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (nested records become dicts, tuples become lists)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    documents: int
    passages: int
    embedded: int
    reused: int
    removed: int
    skipped: tuple[Skipped, ...]
    seconds: float
    index_dir: str
    changed: bool = True  # False when nothing in the corpus changed and the live build was kept
    notices: tuple[Notice, ...] = ()  # indexed files with metadata that could not be read

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary; `skipped` is a list of {path, reason, error}, `notices` of
        {path, reason}."""
        data = asdict(self)
        data["skipped"] = [asdict(s) for s in self.skipped]
        data["notices"] = [asdict(n) for n in self.notices]
        return data


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Facts about a built index, for `stats` and the app's sidebar."""

    documents: int
    passages: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    earliest: str | None
    latest: str | None
    model: str
    dimension: int
    vector_index: str
    built_at: str
    index_bytes: int
    index_dir: str
    version: str
    backend: str = "torch"
    engine: str = "local"
    engine_location: str = ""  # the build folder, a Milvus Lite file or a Milvus server URI

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered citation in an answer: `number` is the 1-based position of its hit."""

    number: int
    sentence: str
    link: str  # targets this very sentence
    hit_rank: int
    score: float = 0.0  # the combiner's log-odds that this sentence answers the question
    features: tuple[tuple[str, float], ...] = ()  # what the score was made of (ask --explain)


@dataclass(frozen=True, slots=True)
class Answer:
    """An extractive answer: verbatim sentences, each with a citation into `hits`."""

    question: str
    sentences: tuple[Citation, ...]
    hits: tuple[SearchHit, ...]
    found: bool  # False when nothing was relevant enough to quote
    message: str = ""  # why nothing was found, or which filter to relax
    searched_as: str = ""  # the question with described companies named, when that changed it

    @property
    def text(self) -> str:
        """The answer as plain text with [n] markers."""
        return " ".join(f"{c.sentence} [{c.number}]" for c in self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with the plain-text answer included."""
        data = asdict(self)
        data["text"] = self.text
        return data


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Restrictions applied before the top-k cut."""

    outlets: tuple[str, ...] = ()
    since: str | None = None  # inclusive ISO date
    until: str | None = None  # inclusive ISO date
    language: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.outlets or self.since or self.until or self.language)


__all__ = [
    "Answer",
    "BuildReport",
    "Citation",
    "Document",
    "IndexStats",
    "Passage",
    "RelatedLink",
    "RetrieverHit",
    "SearchFilters",
    "SearchHit",
    "Skipped",
    "StoryCopy",
]


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """What one feed refresh found and did."""

    url: str
    ok: bool = True
    title: str | None = None
    not_modified: bool = False  # the server answered 304: nothing fetched beyond the feed
    entries: int = 0  # entries in the feed
    new: int = 0  # entries not seen before
    added: int = 0  # of those, handled (saved, or already in the corpus)
    failed: int = 0
    reason: str = ""
    waiting: int = 0  # new entries over the per-update cap, taken by the next update


@dataclass(frozen=True, slots=True)
class Feed:
    """A subscription, as `coverage-search feeds` lists it."""

    url: str
    title: str | None = None
    added_at: str | None = None
    checked_at: str | None = None
    seen: int = 0
    last_error: str | None = None
    given_up: int = 0  # entries that failed for good (a bad link, or MAX_ATTEMPTS failures)


@dataclass(frozen=True, slots=True)
class AddedItem:
    """A source saved into the corpus, or found there already (`duplicate_of` says where)."""

    source: str  # the URL or file as given (or the feed entry's link)
    doc_id: str  # the corpus file that holds it, relative to the corpus folder
    title: str
    url: str | None = None
    outlet: str | None = None
    published: str | None = None
    duplicate_of: str | None = None  # for duplicates: "same URL", "same text" or "same file"
    feed: str | None = None


@dataclass(frozen=True, slots=True)
class FailedItem:
    """A source that could not be added: why, and the HTTP status where there was one."""

    source: str
    reason: str
    status: int | None = None
    feed: str | None = None


@dataclass(frozen=True, slots=True)
class AddReport:
    """What `add` or `update` did; `build` is set once the index was refreshed."""

    added: tuple[AddedItem, ...] = ()
    duplicates: tuple[AddedItem, ...] = ()
    failed: tuple[FailedItem, ...] = ()
    feeds: tuple[FeedCheck, ...] = ()
    build: BuildReport | None = None

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = {
            "added": [asdict(a) for a in self.added],
            "duplicates": [asdict(d) for d in self.duplicates],
            "failed": [asdict(f) for f in self.failed],
            "feeds": [asdict(f) for f in self.feeds],
            "build": self.build.to_dict() if self.build else None,
        }
        return data


@dataclass(frozen=True, slots=True)
class RemoveReport:
    """What `remove` did: the doc ids deleted from corpus/, what was not found, the rebuild."""

    removed: tuple[str, ...] = ()
    failed: tuple[FailedItem, ...] = ()
    build: BuildReport | None = None

    @property
    def ok(self) -> bool:
        """True when every document asked for was removed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "removed": list(self.removed),
            "failed": [asdict(f) for f in self.failed],
            "build": self.build.to_dict() if self.build else None,
        }
