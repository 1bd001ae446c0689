"""What corpus/ already holds (by URL and by text), canonical URLs, and atomic file writes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import unicodedata
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from coverage_search.errors import CorpusError
from coverage_search.passages.dedup import normalized_hash
from coverage_search.sources.files import open_lock, read_inside
from coverage_search.sources.reading import Unreadable, split_front_matter
from coverage_search.sources.scan import MAX_TEXT_BYTES
from coverage_search.sources.urls import ascii_url, is_web_url

LOCK = ".coverage-search.lock"
TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
# Query parameters that track a click, not name a page.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_hsenc|_hsmi|ref_src|"
    r"cmpid|ocid|smid|sr_share|taid|mbid|cid|at_medium|at_campaign|guccounter|guce_referrer.*)$",
    re.I,
)


def canonical_url(url: str) -> str:
    """A URL in one spelling: lower-case scheme and host, no default port, fragment or trackers.

    A URL that cannot be parsed (a bad port, an unclosed bracket) comes back as given: it is
    compared as text, and whoever fetches it says what is wrong with it.
    """
    try:
        # "/café" and "/caf%C3%A9" are one address: the second is what a request sends.
        parts = urllib.parse.urlsplit(ascii_url(url.strip()))
        port_number = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = (
        port_number
        if port_number and (scheme, port_number) not in (("http", 80), ("https", 443))
        else None
    )
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port else ""
    query = urllib.parse.urlencode(
        sorted(
            (k, v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        )
    )
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host, give or take "www."."""

    def host(url: str) -> str:
        return (urllib.parse.urlsplit(url).hostname or "").lower().removeprefix("www.")

    return host(a) == host(b) != ""


@dataclass
class CorpusCatalog:
    """Doc ids of the corpus's text files by canonical URL and by normalized body text."""

    corpus_dir: Path
    by_url: dict[str, str] = field(default_factory=dict)
    by_text: dict[str, str] = field(default_factory=dict)

    @classmethod
    def scan(cls, corpus_dir: Path) -> CorpusCatalog:
        """Read the front matter and body of every Markdown and text file (hidden ones aside)."""
        catalog = cls(Path(corpus_dir))
        if not catalog.corpus_dir.is_dir():
            return catalog
        root = catalog.corpus_dir.resolve()
        for folder, dirs, files in os.walk(catalog.corpus_dir):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder, name)
                if name.startswith(".") or path.suffix.lower() not in TEXT_SUFFIXES:
                    continue
                try:  # as the scan reads: no pipes, no links out of the corpus
                    raw = read_inside(path, root, MAX_TEXT_BYTES)
                except Unreadable:
                    continue
                text = raw.decode("utf-8", errors="replace")
                try:
                    meta, body = split_front_matter(text)
                except Unreadable:  # the build reports it; here it is only text to compare
                    meta, body = {}, text
                catalog.remember(
                    path.relative_to(catalog.corpus_dir).as_posix(),
                    body,
                    urls=[str(meta[k]) for k in ("url", "fetched_from") if meta.get(k)],
                )
        return catalog

    def remember(self, doc_id: str, body: str, *, urls: list[str]) -> None:
        """Record a document (first one wins for a URL or text already known)."""
        for url in urls:
            if is_web_url(url):
                self.by_url.setdefault(canonical_url(url), doc_id)
        if body.strip():
            self.by_text.setdefault(normalized_hash(body), doc_id)

    def forget(self, doc_id: str) -> None:
        """Drop every entry pointing at a removed document."""
        for table in (self.by_url, self.by_text):
            for key in [k for k, v in table.items() if v == doc_id]:
                del table[key]

    def find_url(self, *urls: str | None) -> str | None:
        """The doc id already holding any of these URLs, or None."""
        for url in urls:
            if url and is_web_url(url) and (found := self.by_url.get(canonical_url(url))):
                return found
        return None

    def find_text(self, body: str) -> str | None:
        """The doc id already holding this text (case, spacing and punctuation aside), or None."""
        return self.by_text.get(normalized_hash(body))


def slug(text: str, *, limit: int = 60) -> str:
    """ASCII words joined by "-": "Dario Amodei’s Exit!" → "dario-amodeis-exit"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", ""))
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out}-{word}" if out else word
    if not out and words:  # one word longer than the limit
        out = words[0][:limit]
    return out


def write_new_file(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write `data` to an unused name `stem[-n]suffix` in `folder`: atomic, never over a file.

    The bytes go to a hidden temporary file first (the corpus scanner skips hidden files), are
    fsynced, then hard-linked to the final name, which fails rather than replaces if the name
    was taken meanwhile. A crash leaves at most a hidden temporary file, never a partial one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".adding-", suffix=".part")
    try:
        os.fchmod(fd, _file_mode())  # mkstemp makes it 0600; a corpus file is like any other
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for n in range(1, 1000):
            target = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            if target.exists():
                continue
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            _fsync_dir(folder)
            return target
        raise FileExistsError(f"too many files named like {stem}{suffix}")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def replace_file(path: Path, data: bytes) -> None:
    """Replace (or create) `path` atomically: temp file in the same folder, fsync, os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def corpus_lock(corpus_dir: Path, *, create: bool = False) -> Iterator[None]:
    """Hold the corpus's add lock, so two `add`/`update` runs never pick names or state at once.

    Only `add` makes a missing corpus folder (it is where the new files go); update and remove
    refuse one, which is most often a mistyped --corpus."""
    if create:
        try:
            corpus_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CorpusError(f"Cannot create the corpus folder {corpus_dir}: {exc}.") from None
    elif not corpus_dir.is_dir():
        raise CorpusError(f"No corpus folder at {corpus_dir}: check --corpus.")
    try:
        lock = open_lock(corpus_dir / LOCK)
    except OSError as exc:
        raise CorpusError(f"Cannot lock {corpus_dir}: {exc}.") from None
    with lock as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise CorpusError(
                f"Another add, update or remove is changing {corpus_dir}. "
                "Wait for it to finish, then try again."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _file_mode() -> int:
    """0o666 less the umask: the mode `open()` would give a new file."""
    try:  # Linux shows the umask here; os.umask can only read it by changing it for all threads
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
