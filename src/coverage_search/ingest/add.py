"""Bring coverage into corpus/: article URLs, local files and feed entries → Markdown files.

corpus/ stays the source of truth: every fetched article is saved as Markdown with YAML front
matter (title, url, outlet, published, author, language, fetched_at), so a rebuild never needs
the network. Each item is checked against what the corpus already holds (same canonical URL or
same text → a no-op that says so), written atomically, and read back with the corpus readers;
one failing item is reported with its reason and the others go on.
"""

from __future__ import annotations

import hashlib
import re
import sys
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from coverage_search.errors import CoverageSearchError, FetchError
from coverage_search.ingest.article import Article, article_from_html
from coverage_search.ingest.catalog import (
    CorpusCatalog,
    canonical_url,
    corpus_lock,
    slug,
    write_new_file,
)
from coverage_search.ingest.decoding import decode_body
from coverage_search.ingest.feeds import MAX_ATTEMPTS, FeedEntry, FeedStore
from coverage_search.ingest.fetch import DEFAULT_MAX_BYTES, HTML_TYPES, Fetcher
from coverage_search.ingest.uploads import MAX_UPLOAD_BYTES
from coverage_search.records import AddedItem, AddReport, FailedItem, FeedCheck
from coverage_search.sources.metadata import Metadata
from coverage_search.sources.urls import has_web_scheme, url_problem

_COPY_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".pdf"})
_HTML_SUFFIXES = frozenset({".html", ".htm"})


T = TypeVar("T")
_OTHER_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class Adder:
    """Adds sources one by one into a corpus folder, collecting what happened to each."""

    def __init__(
        self, corpus_dir: Path, fetcher: Fetcher | None = None, *, progress: bool = False
    ) -> None:
        self.progress = progress and sys.stderr is not None
        self.corpus_dir = Path(corpus_dir)
        self.fetcher = fetcher or Fetcher()
        self.catalog = CorpusCatalog.scan(self.corpus_dir)
        self.added: list[AddedItem] = []
        self.duplicates: list[AddedItem] = []
        self.failed: list[FailedItem] = []
        self._lasting = False  # whether the last fetch failed in a way no retry can change

    def steps(self, items: Sequence[T], what: str) -> Iterator[T]:
        """`items`, with a bar on stderr when asked for: fetches can take the timeout each."""
        if not self.progress or not items:
            yield from items
            return
        from tqdm import tqdm

        with tqdm(items, desc=what, file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
            yield from bar

    def report(self, feeds: Sequence[FeedCheck] = ()) -> AddReport:
        return AddReport(
            tuple(self.added), tuple(self.duplicates), tuple(self.failed), tuple(feeds)
        )

    def add(self, source: str) -> bool:
        """Add a URL or a local file; False when it failed (the reason is in `failed`)."""
        if not source.strip():  # Path("") is the current folder, which was never named
            return self._fail(source, "an empty argument: give an article URL or a file")
        if has_web_scheme(source):
            return self.add_url(source)
        if _OTHER_SCHEME.match(source.strip()):  # file://, ftp://: Path() would mangle them
            return self._fail(
                source, "only http:// and https:// URLs, or paths of local files, can be added"
            )
        return self.add_file(Path(source).expanduser())

    def add_url(self, url: str, *, hints: Metadata | None = None, feed: str | None = None) -> bool:
        """Fetch an article URL and save it; duplicates by URL are found before any request."""
        if known := self.catalog.find_url(url):
            self._duplicate(url, known, "same URL", feed=feed)
            return True
        try:
            result = self.fetcher.fetch(url, accept=HTML_TYPES, origin=feed)
            html = result.text()
            article = article_from_html(html, url=result.final_url, hints=hints)
        except FetchError as exc:
            self.failed.append(FailedItem(url, exc.reason, exc.status, feed))
            self._lasting = exc.lasting
            return False
        except ValueError as exc:
            self.failed.append(FailedItem(url, f"no article text in the page ({exc})", None, feed))
            return False
        article = replace(
            article,
            url=article.url or canonical_url(result.final_url),
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            fetched_from=url if canonical_url(url) != article.url else None,
            feed=feed,
        )
        return self._save_article(url, article, feed=feed)

    def add_file(self, path: Path) -> bool:
        """Copy a Markdown, text or PDF file into the corpus; an HTML file becomes Markdown."""
        source = str(path)
        suffix = path.suffix.lower()
        if path.is_dir():
            return self._fail(source, "a folder: add the files in it (folder/*.md, say)")
        if path.exists() and not path.is_file():  # a FIFO or /dev/zero exists all the same
            return self._fail(source, "not a regular file (a pipe or a device?): give a file")
        if not path.is_file():
            return self._fail(source, "no such file (and not an http:// or https:// URL)")
        if suffix not in _COPY_SUFFIXES | _HTML_SUFFIXES:
            return self._fail(source, "not a format the index reads (.md, .txt, .html, .pdf)")
        try:
            if path.resolve().is_relative_to(self.corpus_dir.resolve()):
                doc_id = path.resolve().relative_to(self.corpus_dir.resolve()).as_posix()
                self._duplicate(source, doc_id, "same file")
                return True
            # Read at most one byte past the cap: a 3 GB file is refused without loading it.
            cap = DEFAULT_MAX_BYTES if suffix in _HTML_SUFFIXES else MAX_UPLOAD_BYTES
            with path.open("rb") as fh:
                data = fh.read(cap + 1)
        except OSError as exc:
            return self._fail(source, f"cannot read the file ({exc.strerror or exc})")
        if len(data) > cap:
            return self._fail(source, f"over {cap // 2**20} MB, more than an article; not added")
        if suffix in _HTML_SUFFIXES:
            try:
                article = article_from_html(decode_body(data, None, url=source))
            except (FetchError, ValueError) as exc:
                return self._fail(source, f"no article text in the page ({exc})")
            return self._save_article(source, article)
        return self._copy_file(source, path, data)

    def _copy_file(self, source: str, path: Path, data: bytes) -> bool:
        from coverage_search.ingest.uploads import check_upload_bytes, safe_filename
        from coverage_search.sources.reading import Unreadable, split_front_matter

        try:
            check_upload_bytes(path.name, data)
            name = Path(safe_filename(path.name))
        except CoverageSearchError as exc:
            return self._fail(source, str(exc))
        urls: list[str] = []
        body = ""
        if name.suffix != ".pdf":
            try:
                meta, body = split_front_matter(data.decode("utf-8", errors="replace"))
            except Unreadable as exc:
                return self._fail(source, str(exc))
            urls = [str(meta["url"])] if meta.get("url") else []
            if known := self.catalog.find_url(*urls):
                return self._duplicate(source, known, "same URL")
            if known := self.catalog.find_text(body):
                return self._duplicate(source, known, "same text")
        elif known := self._same_bytes(data, ".pdf"):
            return self._duplicate(source, known, "same file")
        return self._write(source, name.stem, name.suffix, data, body=body, urls=urls)

    def _save_article(self, source: str, article: Article, *, feed: str | None = None) -> bool:
        if known := self.catalog.find_url(article.url, article.fetched_from):
            return self._duplicate(source, known, "same URL", feed=feed)
        if known := self.catalog.find_text(article.body):
            return self._duplicate(source, known, "same text", feed=feed)
        stem = "-".join(p for p in (slug(article.outlet or "", limit=24), slug(article.title)) if p)
        urls = [u for u in (article.url, article.fetched_from) if u]
        data = article.to_markdown().encode("utf-8")
        return self._write(
            source, stem or "article", ".md", data, body=article.body, urls=urls, feed=feed
        )

    def _write(
        self,
        source: str,
        stem: str,
        suffix: str,
        data: bytes,
        *,
        body: str,
        urls: list[str],
        feed: str | None = None,
    ) -> bool:
        """Write a new corpus file, then read it back as the build will; remove it if that fails."""
        from coverage_search.sources.scan import read_document

        try:
            path = write_new_file(self.corpus_dir, stem, suffix, data)
        except OSError as exc:
            return self._fail(source, f"cannot write into {self.corpus_dir} ({exc})", feed=feed)
        try:
            doc = read_document(path, self.corpus_dir)
        except CoverageSearchError as exc:
            path.unlink(missing_ok=True)
            return self._fail(
                source, f"saved file cannot be read ({getattr(exc, 'reason', exc)})", feed=feed
            )
        self.catalog.remember(doc.doc_id, body, urls=urls)
        self.added.append(
            AddedItem(source, doc.doc_id, doc.title, doc.url, doc.outlet, doc.published, feed=feed)
        )
        return True

    def _same_bytes(self, data: bytes, suffix: str) -> str | None:
        from coverage_search.sources.files import corpus_files, fits, is_file_inside, read_inside
        from coverage_search.sources.reading import Unreadable

        digest = hashlib.sha256(data).digest()
        # As the build lists them (rglob raised on a folder nested too deep to open).
        for path in corpus_files(self.corpus_dir):
            rel = path.relative_to(self.corpus_dir)
            if not path.name.endswith(suffix) or not fits(path):
                continue
            if not is_file_inside(path, self.corpus_dir) or path.stat().st_size != len(data):
                continue
            try:
                same = hashlib.sha256(read_inside(path, self.corpus_dir, len(data))).digest()
            except Unreadable:
                continue
            if same == digest:
                return rel.as_posix()
        return None

    def _duplicate(self, source: str, doc_id: str, why: str, *, feed: str | None = None) -> bool:
        self.duplicates.append(AddedItem(source, doc_id, doc_id, duplicate_of=why, feed=feed))
        return True

    def _fail(self, source: str, reason: str, *, feed: str | None = None) -> bool:
        self.failed.append(FailedItem(source, reason, None, feed))
        return False

    # -- feeds -----------------------------------------------------------------------------

    def add_feed_entries(
        self, feed_url: str, entries: Sequence[FeedEntry], attempts: Mapping[str, int]
    ) -> tuple[list[str], dict[str, bool]]:
        """Add each entry's article: the GUIDs done (added or duplicates), and the failed ones.

        A failed GUID maps to True when it is given up: its link can never be fetched (none,
        javascript:, mailto:, a malformed URL...), it or a redirect broke a rule no retry changes
        (a local address, a URL with a password), or it failed MAX_ATTEMPTS runs (`attempts`
        counts the runs before this one). Each failure's reason says which it is.
        """
        done: list[str] = []
        failed: dict[str, bool] = {}
        host = urllib.parse.urlsplit(feed_url).hostname or "feed"
        for entry in self.steps(entries, f"Fetching entries of {host}"):
            problem = url_problem(entry.link) if entry.link else "the entry has no link"
            if problem is not None:
                self.failed.append(
                    FailedItem(entry.link or entry.guid, f"{problem}; given up", None, feed_url)
                )
                failed[entry.guid] = True
                continue
            hints = Metadata(title=entry.title, published=entry.published, author=entry.author)
            self._lasting = False
            if self.add_url(entry.link or "", hints=hints, feed=feed_url):
                done.append(entry.guid)
                continue
            attempt = attempts.get(entry.guid, 0) + 1
            given_up = self._lasting or attempt >= MAX_ATTEMPTS
            note = (
                "given up (no retry can change that)"
                if self._lasting
                else f"given up after {attempt} attempts"
                if given_up
                else f"tried again at the next update (attempt {attempt} of {MAX_ATTEMPTS})"
            )
            last = self.failed[-1]
            self.failed[-1] = replace(last, reason=f"{last.reason}; {note}")
            failed[entry.guid] = given_up
        return done, failed


def add_sources(
    sources: Sequence[str],
    *,
    corpus_dir: str | Path,
    feeds: Sequence[str] = (),
    fetcher: Fetcher | None = None,
    progress: bool = False,
) -> AddReport:
    """Save URLs and files into the corpus, and subscribe to feeds (fetching their entries);
    with `progress`, a bar on stderr while fetching."""
    corpus = Path(corpus_dir)
    with corpus_lock(corpus, create=True):
        adder = Adder(corpus, fetcher, progress=progress)
        for source in adder.steps(sources, "Adding"):
            adder.add(source)
        checks = _refresh(adder, FeedStore(corpus), list(feeds), subscribe=True)
    return adder.report(checks)


def update_feeds(
    *,
    corpus_dir: str | Path,
    feeds: Sequence[str] | None = None,
    fetcher: Fetcher | None = None,
    progress: bool = False,
) -> AddReport:
    """Fetch what is new in every subscribed feed (or the given ones) into the corpus."""
    corpus = Path(corpus_dir)
    with corpus_lock(corpus):
        store = FeedStore(corpus)
        adder = Adder(corpus, fetcher, progress=progress)
        urls = list(feeds) if feeds is not None else [f.url for f in store.feeds()]
        checks = _refresh(adder, store, urls, subscribe=False)
    return adder.report(checks)


def _refresh(
    adder: Adder, store: FeedStore, urls: list[str], *, subscribe: bool
) -> list[FeedCheck]:
    checks = []
    for url in urls:
        try:
            poll = store.poll(url, adder.fetcher, subscribe=subscribe)
        except FetchError as exc:
            adder.failed.append(FailedItem(url, exc.reason, exc.status, url))
            checks.append(FeedCheck(url=url, ok=False, reason=exc.reason))
            continue
        done, failed = adder.add_feed_entries(poll.url, poll.new_entries, store.attempts(url))
        store.record(poll, done, failed)
        checks.append(poll.check(added=len(done), failed=len(failed)))
    return checks
