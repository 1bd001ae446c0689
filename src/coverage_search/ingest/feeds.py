"""RSS and Atom subscriptions: read feeds with feedparser, remember what was seen.

The state lives in corpus/.feeds.json (hidden, so the corpus scanner skips it; it travels with
the corpus), replaced atomically: per feed its title, the GUIDs and canonical links of entries
already handled, and the ETag / Last-Modified validators for conditional GET, so a rerun
fetches nothing when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coverage_search.arguments import folder_path
from coverage_search.errors import CorpusError, FetchError, QueryError
from coverage_search.ingest.catalog import canonical_url, corpus_lock, replace_file
from coverage_search.ingest.fetch import FEED_TYPES, HTML_TYPES, Fetcher
from coverage_search.records import Feed, FeedCheck
from coverage_search.sources.files import read_state_file, valid_data

STATE_FILE = ".feeds.json"
STATE_VERSION = 1
MAX_SEEN = 5000  # per feed; older GUIDs have long left the feed and will not come back
MAX_ATTEMPTS = 5  # runs in which an entry may fail (HTTP 5xx, a timeout) before it is given up
# New entries fetched per feed in one update, newest first (feeds list them so): a feed of
# 100,000 items must not turn one update into 100,000 downloads. The rest stay unseen, so the
# next update takes the next ones; a news feed gains a few dozen a day.
MAX_NEW_ENTRIES = 200
# Entries read of one feed, newest first: as many as are remembered as seen, so an entry past
# the memory never comes back as new each update. News feeds hold tens.
MAX_FEED_ENTRIES = MAX_SEEN
# A million tags took feedparser 45 s and half a gigabyte, and the 10 MB cap on a download
# lets a feed of empty tags hold three million; markup with text in it runs tens of bytes a
# tag, so a 10 MB feed of full-text entries stays under this.
MAX_FEED_TAGS = 500_000
# A GUID longer than this is kept as its hash: a feed of 3 MB GUIDs grew .feeds.json past its
# cap in a few updates, which then locked every subscription out.
MAX_GUID_CHARS = 200


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed: where its article is, and what the feed says about it."""

    guid: str
    link: str | None
    title: str | None = None
    published: str | None = None  # "YYYY-MM-DD"
    author: str | None = None


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """A fetched feed: its new entries and the validators to store once they are handled."""

    url: str
    title: str | None
    not_modified: bool
    entries: int
    new_entries: tuple[FeedEntry, ...]
    etag: str | None
    last_modified: str | None
    waiting: int = 0  # new entries past MAX_NEW_ENTRIES, left for the next update

    def check(self, *, added: int, failed: int) -> FeedCheck:
        return FeedCheck(
            url=self.url,
            ok=failed == 0,
            title=self.title,
            not_modified=self.not_modified,
            entries=self.entries,
            new=len(self.new_entries),
            added=added,
            failed=failed,
            waiting=self.waiting,
        )


@dataclass
class _State:
    title: str | None = None
    added_at: str | None = None
    checked_at: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_error: str | None = None
    seen: list[str] = field(default_factory=list)  # handled: added, duplicates or given up
    seen_urls: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)  # failed runs of entries retried
    given_up: int = 0  # entries that failed for good, so `feeds` still says they were lost


def _fits(name: str, value: object) -> bool:
    """True when a stored field has the type _State gives it (anything else is dropped)."""
    if name in ("seen", "seen_urls"):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if name == "attempts":
        return isinstance(value, dict)
    if name == "given_up":
        return type(value) is int and value >= 0
    return value is None or isinstance(value, str)


class FeedStore:
    """The subscriptions of one corpus folder (corpus/.feeds.json)."""

    def __init__(self, corpus_dir: Path) -> None:
        if Path(corpus_dir).exists() and not Path(corpus_dir).is_dir():
            raise CorpusError(f"{corpus_dir} is not a folder: check --corpus.")
        self.path = Path(corpus_dir) / STATE_FILE
        self._feeds: dict[str, _State] = self._load()

    def feeds(self) -> list[Feed]:
        """Every subscription, in the order they were added."""
        return [
            Feed(url, s.title, s.added_at, s.checked_at, len(s.seen), s.last_error, s.given_up)
            for url, s in self._feeds.items()
        ]

    def poll(self, url: str, fetcher: Fetcher, *, subscribe: bool) -> FeedPoll:
        """Fetch a feed (conditionally) and list its unseen entries; FetchError on failure.

        A feed is subscribed only once it was read successfully, so a mistyped URL is not kept.
        """
        url = url.strip()
        state = self._feeds.get(url)
        if state is None and not subscribe:
            raise FetchError(url, "not subscribed; add it with: coverage-search add --feed URL")
        current = state or _State()
        try:
            result = fetcher.fetch(
                url,
                accept=FEED_TYPES | HTML_TYPES,
                etag=current.etag,
                last_modified=current.last_modified,
            )
            if result.not_modified:
                return FeedPoll(url, current.title, True, 0, (), result.etag, result.last_modified)
            if result.content_type in HTML_TYPES:
                raise FetchError(
                    url, "a web page, not a feed: give the address of its RSS or Atom feed"
                )
            title, entries = parse_feed(result.body, result.content_type, url=url)
        except FetchError as exc:
            if state is not None:
                state.last_error = str(exc.reason)
                state.checked_at = _now()
                self._save()
            raise
        if state is None:
            self._feeds[url] = current
            current.added_at = _now()
        seen, seen_urls = set(current.seen), set(current.seen_urls)
        new = [
            e
            for e in entries
            if e.guid not in seen and not (e.link and canonical_url(e.link) in seen_urls)
        ]
        taken = tuple(new[:MAX_NEW_ENTRIES])
        waiting = len(new) - len(taken)
        # Validators are stored only when nothing waits: a 304 would hide the rest next time.
        etag, modified = (None, None) if waiting else (result.etag, result.last_modified)
        return FeedPoll(url, title, False, len(entries), taken, etag, modified, waiting)

    def unsubscribe(self, url: str) -> Feed:
        """Forget a subscription and what it saw; the articles it brought stay in the corpus."""
        key = url.strip()
        listed = {f.url: f for f in self.feeds()}
        if key not in listed:
            raise CorpusError(
                f"Not subscribed to {key[:200]!r}. List the feeds: coverage-search feeds"
            )
        del self._feeds[key]
        self._save()
        return listed[key]

    def attempts(self, url: str) -> dict[str, int]:
        """How many runs failed on each entry of a feed that is still being retried."""
        state = self._feeds.get(url.strip())
        return dict(state.attempts) if state else {}

    def record(self, poll: FeedPoll, done: Sequence[str], failed: Mapping[str, bool]) -> None:
        """Mark entries handled: `done` ones, and failed ones given up (`failed[guid]` True).

        The others count one more failed attempt and stay unseen, so the next update tries them
        again; the validators are stored only when no entry is left to retry (else a 304
        would hide those entries from the next update).
        """
        state = self._feeds.setdefault(poll.url, _State(added_at=_now()))
        links = {e.guid: e.link for e in poll.new_entries}
        handled = [*done, *(g for g, given_up in failed.items() if given_up)]
        state.seen = (state.seen + [g for g in handled if g not in state.seen])[-MAX_SEEN:]
        fresh_urls = [canonical_url(link) for g in done if (link := links.get(g))]
        state.seen_urls = (state.seen_urls + fresh_urls)[-MAX_SEEN:]
        retried = [g for g, given_up in failed.items() if not given_up]
        state.given_up += len(failed) - len(retried)
        for guid in handled:
            state.attempts.pop(guid, None)
        for guid in retried:
            state.attempts[guid] = state.attempts.get(guid, 0) + 1
        state.title = poll.title or state.title
        state.checked_at = _now()
        state.last_error = "some entries failed; they are retried next update" if retried else None
        if not retried and not poll.not_modified:
            state.etag, state.last_modified = poll.etag, poll.last_modified
        self._save()

    def _load(self) -> dict[str, _State]:
        try:
            raw = read_state_file(self.path)
            if raw is None:
                return {}
            # A \ud800 escape (a hand edit) is a lone surrogate, which saving it would refuse.
            data: Any = valid_data(json.loads(raw.decode("utf-8")))
        except (OSError, ValueError, RecursionError) as exc:
            raise CorpusError(
                f"{self.path} is unreadable ({exc}). Fix or delete it (subscriptions are lost)."
            ) from None
        feeds: dict[str, _State] = {}
        if not isinstance(data, dict) or not isinstance(data.get("feeds") or {}, dict):
            raise CorpusError(
                f"{self.path} is not a feeds file (no feeds object). "
                "Fix or delete it (subscriptions are lost)."
            )
        for url, raw in (data.get("feeds") or {}).items():
            if isinstance(raw, dict):
                known = {
                    k: v for k, v in raw.items() if k in _State.__dataclass_fields__ and _fits(k, v)
                }
                tries = known.get("attempts")
                known["attempts"] = {
                    str(g): n for g, n in (tries.items() if isinstance(tries, dict) else ())
                    if type(n) is int
                }  # fmt: skip
                feeds[url] = _State(**known)
        return feeds

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": STATE_VERSION,
            "feeds": {url: vars(state) for url, state in self._feeds.items()},
        }
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        replace_file(self.path, text.encode("utf-8"))


def list_feeds(corpus_dir: str | Path) -> list[Feed]:
    """The feeds this corpus is subscribed to."""
    return FeedStore(folder_path(corpus_dir, "corpus_dir")).feeds()


def unsubscribe_feed(corpus_dir: str | Path, url: str) -> Feed:
    """Stop following feed `url` (as `feeds` lists it); its articles stay in the corpus and
    the index. CorpusError when the corpus is not subscribed to it."""
    if not isinstance(url, str):
        raise QueryError(f"Give the feed's URL as text, not {url!r:.40}.")
    corpus = folder_path(corpus_dir, "corpus_dir")
    if not corpus.is_dir():
        raise CorpusError(f"{corpus} is not a folder: check --corpus.")
    with corpus_lock(corpus):  # an `update` writes .feeds.json under the same lock
        return FeedStore(corpus).unsubscribe(url)


# An entry's closing tag (RSS's item, Atom's entry, any case or namespace prefix), or a CDATA
# section or comment, matched whole so that a closing tag quoted inside one is passed over.
# An unclosed one runs to the end, as it does for a parser; tried again at every later "<!--"
# it would make the scan quadratic (510,000 of them: hours).
_ENTRY_END = re.compile(
    rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|(</(?:[\w.-]+:)?(?:item|entry)\s*>)",
    re.IGNORECASE | re.DOTALL,
)
_TAIL_TAGS = 16  # after a feed's last entry come its closing tags, not a document more


def _closing(start: bytes) -> bytes:
    """The closing tags of the feed whose first bytes are `start`: Atom, RSS 1.0 or RSS 2.0."""
    if re.search(rb"<(?:[\w.-]+:)?feed\b", start):
        return b"</feed>"
    if re.search(rb"<rdf:RDF\b", start):
        return b"</rdf:RDF>"  # RSS 1.0: the items follow the channel, inside the RDF root
    return b"</channel></rss>"


def _within_tag_cap(body: bytes, url: str) -> bytes:
    """`body`, or its entries up to the last one that ends within MAX_FEED_TAGS tags.

    feedparser's time and memory grow with the tags, so a long feed is cut before parsing,
    after a whole entry (feeds list the newest first), and closed again so it stays
    well-formed: feedparser's strict parser reads it, not its loose one, several times slower.
    With no entry ending in time (empty tags, one huge entry) it is refused.
    """
    if body.count(b"<") <= MAX_FEED_TAGS:
        return body
    import numpy as np

    cap = int(np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("<"))[MAX_FEED_TAGS])
    ends = [m.end() for m in _ENTRY_END.finditer(body) if m.group(1)]  # after each entry
    kept = [end for end in ends if end <= cap]
    if not kept:
        raise FetchError(url, f"a feed of over {MAX_FEED_TAGS:,} tags, too large to read")
    # The feed's own closing tags, from after its last entry; never more than a few tags,
    # or what follows the last entry would bring back what the cap keeps out.
    tail = body[ends[-1] :]
    if tail.count(b"<") > _TAIL_TAGS:
        tail = _closing(body[:4096])
    return body[: kept[-1]] + tail


def parse_feed(body: bytes, content_type: str, *, url: str) -> tuple[str | None, list[FeedEntry]]:
    """(title, entries) of RSS/Atom bytes; FetchError when they are not a readable feed."""
    import feedparser

    from coverage_search.ingest.decoding import web_labels
    from coverage_search.sources.metadata import MAX_URL_CHARS, normalize_date, printable

    def line(value: object) -> str | None:  # a terminal never sees a feed's escapes
        return " ".join(printable(str(value or "")).split())[:2000] or None

    body = _within_tag_cap(body, url)
    body, content_type = web_labels(body, content_type or "text/xml")
    headers = {"content-type": content_type, "content-location": url}
    parsed = feedparser.parse(body, response_headers=headers)  # relative links resolve to url
    feed = parsed.get("feed", {})
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        detail = f" ({' '.join(str(problem).split())[:100]})" if problem else ""
        raise FetchError(url, f"not a readable RSS or Atom feed{detail}")
    entries = []
    for item in parsed.entries[:MAX_FEED_ENTRIES]:
        link = item.get("link") or None
        if link and len(link) > MAX_URL_CHARS:
            link = None  # no address is that long: given up as an entry with no link
        guid = str(item.get("id") or link or item.get("title") or "")
        if not guid:
            continue
        if len(guid) > MAX_GUID_CHARS:
            guid = "sha256:" + hashlib.sha256(guid.encode("utf-8", "surrogatepass")).hexdigest()
        published = normalize_date(item.get("published") or item.get("updated") or "")
        entries.append(
            FeedEntry(
                guid=guid,
                link=str(link) if link else None,
                title=line(item.get("title")),
                published=published,
                author=line(item.get("author")),
            )
        )
    return line(feed.get("title")), entries


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
