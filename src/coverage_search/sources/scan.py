"""Corpus files (Markdown, plain text, HTML, PDF) → Document records, or why they are skipped."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from coverage_search.errors import CorpusError, SourceError
from coverage_search.sources.files import (
    TOO_DEEP,
    corpus_files,
    fits,
    is_file_inside,
    is_sidecar,
    is_utf8_name,
    link_problem,
    read_inside,
    shown_name,
    sidecar_path,
)
from coverage_search.sources.markdown import RenderedText, clean_text, markdown_to_text
from coverage_search.sources.metadata import clip, metadata_from_mapping, printable
from coverage_search.sources.parallel import Pool, using, windows
from coverage_search.sources.reading import (
    CONTROLS,
    Parts,
    Unreadable,
    brief,
    decode_text,
    split_front_matter,
    visible,
)

if TYPE_CHECKING:
    from coverage_search.records import Document, Skipped


class BuildCache(Protocol):
    """What reading needs of the build's cache (build/cache.py): documents by their bytes."""

    def documents(
        self, wanted: Sequence[tuple[str, Sequence[str]]]
    ) -> list[Document | SourceError | None]: ...

    def keep_document(
        self, doc_id: str, how: Sequence[str], doc: Document | SourceError
    ) -> None: ...

    def flush(self) -> None: ...


SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}
)
# News articles are small; these caps keep one odd file from taking the build's memory.
MAX_TEXT_BYTES: int = 10 * 1024 * 1024  # .md, .txt, .html
MAX_PDF_BYTES: int = 50 * 1024 * 1024  # PDFs carry fonts and images besides their text
MAX_TEXT_CHARS: int = 10_000_000  # the text a document may hold, whatever its format

_FORMATS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
# Followed links to folders could loop or leave the corpus; a copy inside is read like any folder.
_FOLDER_LINK = "a link to a folder, which is not followed: move or copy the folder into the corpus"
_TITLE_LINE_MAX = 150  # a longer first line of a .txt file is a paragraph, not a title
_LOOKUP_FILES = 512  # files asked of the build cache at once (one query for them all)

# pypdf and trafilatura log every malformed object they recover from; a build reports
# unreadable files itself, and their chatter would bury that report.
for _name in ("pypdf", "trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def scan_corpus(
    corpus_dir: Path,
    *,
    on_item: Callable[[Document | Skipped], None] | None = None,
    cache: BuildCache | None = None,
    workers: int | None = None,
    pool: Pool | None = None,
) -> Iterator[Document | Skipped]:
    """Read every file under `corpus_dir`, sorted: a Document, or Skipped with the reason.

    With a build cache, files whose bytes were read before are not parsed again. Files are
    parsed on `pool`'s workers, or `workers` processes of its own (default: every core), for a
    corpus of a thousand files or more; the items are the same, in the same order, either way.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():  # checked now, not at the first next()
        if corpus_dir.exists():
            raise CorpusError(
                f"{corpus_dir} is a file, not a folder. "
                "Point the corpus at a folder of .md, .txt, .html or .pdf files."
            )
        raise CorpusError(
            f"No corpus folder at {corpus_dir}. "
            "Create it and put .md, .txt, .html or .pdf files in it."
        )
    return _scan(corpus_dir, on_item, cache, workers, pool)


def _scan(
    corpus_dir: Path,
    on_item: Callable[[Document | Skipped], None] | None,
    cache: BuildCache | None,
    workers: int | None,
    shared: Pool | None,
) -> Iterator[Document | Skipped]:
    from coverage_search.records import Skipped

    files = corpus_files(corpus_dir)
    # Files are read here (bytes, hash, cache) and parsed on every core; order is the files'.
    with using(shared, workers) as pool:
        entries = _entries(corpus_dir, files, cache)
        if cache is not None:
            entries = _known(entries, cache)
        jobs = pool.map_in_order(_parse_job, entries, _is_job, count=len(files), size=_size)
        for entry, parsed in jobs:
            item: Document | Skipped
            if isinstance(entry, _Job):
                try:
                    item = _finish(entry, parsed, cache)
                except SourceError as exc:
                    item = Skipped(shown_name(entry.doc_id), exc.reason, error=True)
            else:
                item = entry
            if on_item is not None:
                on_item(item)
            yield item
    if cache is not None:
        cache.flush()


def _entries(
    corpus_dir: Path, files: Sequence[Path], cache: BuildCache | None
) -> Iterator[Document | Skipped | _Job]:
    """What each file gives before parsing: Skipped, a cached Document, or bytes to parse."""
    from coverage_search.records import Skipped

    root = corpus_dir.resolve()
    for path in files:
        rel = path.relative_to(corpus_dir).as_posix()
        if not fits(path):  # listed only to be named: no call on its path would work
            yield Skipped(shown_name(rel), TOO_DEEP, error=True)
            continue
        link = link_problem(path, root)
        if not is_utf8_name(rel):
            # A doc id is the file's path as text, so a name that is not UTF-8 cannot be one.
            yield Skipped(shown_name(rel), "the file name is not valid UTF-8: rename it", True)
        elif path.is_symlink() and path.is_dir():
            yield Skipped(shown_name(rel), _FOLDER_LINK, error=False)
        elif link is not None:
            yield Skipped(shown_name(rel), *link)
        elif is_sidecar(path):
            if not is_file_inside(path.with_name(path.name.rsplit(".", 1)[0]), root):
                yield Skipped(
                    shown_name(rel),
                    "metadata sidecar with no PDF of the same name next to it",
                    False,
                )  # else read together with its PDF
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield Skipped(shown_name(rel), _unsupported(path.suffix.lower()), error=False)
        else:
            try:
                yield _load(path, corpus_dir, cache is not None)
            except SourceError as exc:
                yield Skipped(shown_name(rel), exc.reason, error=True)


def _known(
    entries: Iterator[Document | Skipped | _Job], cache: BuildCache
) -> Iterator[Document | Skipped | _Job]:
    """The entries, each file the cache knows by its bytes answered from it (asked in windows)."""
    from coverage_search.records import Skipped

    for window in windows(entries, count=_LOOKUP_FILES, size=_size):
        jobs = [(i, e) for i, e in enumerate(window) if isinstance(e, _Job) and e.how is not None]
        known = cache.documents([(job.doc_id, job.how or ()) for _, job in jobs])
        for (i, job), found in zip(jobs, known, strict=True):
            if isinstance(found, SourceError):
                window[i] = Skipped(shown_name(job.doc_id), found.reason, error=True)
            elif found is not None:
                window[i] = found
        yield from window


def corpus_document_id(path: Path, corpus_dir: Path) -> str | None:
    """The doc id of `path` if the scan would read it as a document there, else None.

    The folder part is resolved (the scan walks real folders only), the name itself is not: a
    link named `alias.md` is that link, never the file it points to.
    """
    path = Path(path).expanduser()
    if path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return None
    try:
        folder = path.parent.resolve(strict=True)
        rel = folder.relative_to(Path(corpus_dir).resolve(strict=True)) / path.name
    except (OSError, RuntimeError, ValueError):  # missing, a link loop, or outside the corpus
        return None
    if any(part.startswith(".") for part in rel.parts) or is_sidecar(rel):
        return None
    target = Path(corpus_dir) / rel
    return rel.as_posix() if target.is_symlink() or target.is_file() else None


def _size(entry: object) -> int:  # the bytes a file to parse holds until it is parsed
    return len(entry.raw) + len(entry.sidecar_raw) if isinstance(entry, _Job) else 0


@dataclass(frozen=True, slots=True)
class _Job:
    """A file's bytes and what the cache knows them by, to be parsed here or in a worker."""

    doc_id: str
    fmt: str
    raw: bytes
    digest: str
    sidecar: Path | None
    sidecar_raw: bytes
    path: Path
    how: tuple[str, ...] | None  # the cache key's parts (None without a cache)


def _is_job(entry: Document | Skipped | _Job) -> bool:
    return isinstance(entry, _Job)


def read_document(path: Path, corpus_dir: Path, *, cache: BuildCache | None = None) -> Document:
    """Read one corpus file into a Document; raises SourceError(path, reason) when it cannot.

    A build cache answers for bytes it has seen (and learns the ones it has not).
    """
    loaded = _load(Path(path), Path(corpus_dir), cache is not None)
    if cache is not None and loaded.how is not None:
        (known,) = cache.documents([(loaded.doc_id, loaded.how)])
        if isinstance(known, SourceError):
            raise known
        if known is not None:
            return known
    return _finish(loaded, None, cache)


def _load(path: Path, corpus_dir: Path, cached: bool) -> _Job:
    """The file's bytes to parse, and what a cache (if `cached`) knows them by."""
    doc_id = _doc_id(path, corpus_dir)
    fmt = _FORMATS.get(path.suffix.lower())
    try:
        if fmt is None:
            raise Unreadable(_unsupported(path.suffix.lower()))
        raw = read_inside(path, corpus_dir, MAX_PDF_BYTES if fmt == "pdf" else MAX_TEXT_BYTES)
        digest = hashlib.sha256(raw)
        sidecar = sidecar_path(path, corpus_dir) if fmt == "pdf" else None
        sidecar_raw = read_inside(sidecar, corpus_dir, MAX_TEXT_BYTES) if sidecar else b""
        # The sidecar's bytes count too, so editing only the metadata marks the PDF changed.
        digest.update(sidecar_raw)
    except Unreadable as exc:
        raise SourceError(doc_id, str(exc)) from None
    how: tuple[str, ...] | None = None
    if cached:
        # Everything the reading depends on besides the bytes and the code (see buildcache.py):
        # HTML dates later than today are discarded, so an HTML page is read again each day.
        how = (fmt, digest.hexdigest(), sidecar.name if sidecar else "")
        if fmt == "html":
            how += (datetime.now().astimezone().strftime("%Y-%m-%d"),)
    return _Job(doc_id, fmt, raw, digest.hexdigest(), sidecar, sidecar_raw, path, how)


def _parse_job(job: Document | Skipped | _Job) -> Document | tuple[str, bool]:
    """In a worker: the Document, or (why it cannot be read, whether a parser crashed)."""
    assert isinstance(job, _Job)
    try:
        return _parse(job)
    except SourceError as exc:
        return exc.reason, exc.__cause__ is not None


def _finish(
    job: _Job, parsed: Document | tuple[str, bool] | None, cache: BuildCache | None
) -> Document:
    """A worker's result as read_document gives it: the Document, or its SourceError raised."""
    from coverage_search.records import Document

    if parsed is None:  # not sent to a worker (cannot happen for a job): parse here
        parsed = _parse_job(job)
    if isinstance(parsed, Document):
        if cache is not None and job.how is not None:
            cache.keep_document(job.doc_id, job.how, parsed)
        return parsed
    reason, crashed = parsed
    error = SourceError(job.doc_id, reason)
    if cache is not None and job.how is not None and not crashed:
        cache.keep_document(job.doc_id, job.how, error)
    raise error


def _parse(job: _Job) -> Document:
    """The Document in a file's bytes; raises SourceError(doc_id, reason) when there is none."""
    from coverage_search.records import Document

    doc_id, fmt, raw, sidecar, path = job.doc_id, job.fmt, job.raw, job.sidecar, job.path

    try:
        if fmt == "pdf":
            from coverage_search.sources.pdf import read_pdf

            parts = read_pdf(
                raw, sidecar=job.sidecar_raw, sidecar_name=sidecar.name if sidecar else ""
            )
        elif fmt == "html":
            from coverage_search.sources.html import read_html

            parts = read_html(raw)
        else:
            parts = _read_text(raw, markdown=fmt == "markdown")
        if not visible(parts.rendered.text):
            raise Unreadable(
                "no text: the file is empty, or holds only metadata or invisible marks"
            )
        if (chars := len(parts.rendered.text)) > MAX_TEXT_CHARS:
            raise Unreadable(
                f"too large for one article ({chars:,} characters of text; "
                f"the limit is {MAX_TEXT_CHARS:,}): split it"
            )
    except Unreadable as exc:
        raise SourceError(doc_id, str(exc)) from None
    except Exception as exc:  # a parser tripping on odd input must not stop a whole build
        raise SourceError(
            doc_id, f"could not be read ({type(exc).__name__}: {brief(exc)})"
        ) from exc
    meta = parts.meta.with_defaults()
    return Document(
        doc_id=doc_id,
        path=doc_id,
        title=clip(" ".join(printable(meta.title or parts.title or _pretty_stem(path)).split())),
        text=parts.rendered.text,
        format=fmt,
        content_hash=job.digest,
        url=meta.url,
        outlet=meta.outlet,
        published=meta.published,
        author=meta.author,
        language=meta.language,
        related=meta.related,
        page_starts=parts.page_starts,
        headings=parts.rendered.headings,
        notes=meta.notes(),
    )


def _read_text(raw: bytes, *, markdown: bool) -> Parts:
    """Markdown or plain text, after optional YAML front matter."""
    text = decode_text(raw).replace("\f", "\n\n").replace("\v", "\n")  # old page breaks
    mapping, body = split_front_matter(CONTROLS.sub("", text))
    meta = metadata_from_mapping(mapping)
    if markdown:
        rendered = markdown_to_text(body)
        h1 = next((h for _, level, h in rendered.headings if level == 1), None)
        return Parts(rendered, meta, h1)
    rendered = RenderedText(clean_text(body, verbatim=True).strip(), ())
    first = next((line.strip() for line in rendered.text.split("\n") if line.strip()), "")
    return Parts(rendered, meta, first if len(first) < _TITLE_LINE_MAX else None)


def _doc_id(path: Path, corpus_dir: Path) -> str:
    try:
        return path.relative_to(corpus_dir).as_posix()
    except ValueError:  # one of them is relative, the other absolute
        return path.absolute().relative_to(corpus_dir.absolute()).as_posix()


def _unsupported(suffix: str) -> str:
    shown = suffix or "no extension"
    return f"not a supported format ({shown}); supported: .md, .markdown, .txt, .html, .htm, .pdf"


def _pretty_stem(path: Path) -> str:
    """`openai-cfo_hire.v2.md` → "Openai cfo hire v2"."""
    words = " ".join(w for w in re.split(r"[-_.\s]+", path.stem) if w) or path.name
    return words[0].upper() + words[1:]
