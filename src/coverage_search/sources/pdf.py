"""PDF files → text per page (pypdf), metadata from the PDF info and an optional YAML sidecar."""

from __future__ import annotations

import io
import re
import time
import unicodedata
from typing import Any

from coverage_search.sources.markdown import RenderedText, clean_text
from coverage_search.sources.metadata import (
    Metadata,
    metadata_from_mapping,
    normalize_date,
    normalize_language,
)
from coverage_search.sources.reading import (
    CONTROLS,
    Parts,
    Unreadable,
    brief,
    decode_text,
    one_line,
    yaml_mapping,
)

PDF_SECONDS = 60.0
PDF_PAGE_SECONDS = 0.5
# However many pages a file claims: the allowance per page let a 700 KB file of 5,000 pages,
# all one heavy content stream, hold a build (or the app's upload) for 43 minutes of CPU.
PDF_MAX_SECONDS = 300.0
_clock = time.thread_time
_PLACEHOLDER_TITLE = re.compile(r"(?i)untitled|microsoft word - .*|.*\.(docx?|pdf|indd)")
# A download that got the site's login or error page instead, saved under the PDF's name.
_HTML_START = re.compile(rb"\A\s*<(?:!doctype\s+html|html|head|body)\b", re.I)


def read_pdf(raw: bytes, *, sidecar: bytes = b"", sidecar_name: str = "") -> Parts:
    """Pages joined by a blank line, with `page_starts`; the sidecar's metadata wins."""
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            _decrypt(reader)
        pages = _pages_text(reader)
        info = _pdf_info(reader)
    except Unreadable:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise Unreadable(_why_unreadable(raw, exc)) from None
    if pages and all(p is None for p in pages):
        raise Unreadable("not a readable PDF (no page could be read)")
    text, starts = _join_pages(pages)
    if not text:
        raise Unreadable("PDF has no text layer (scanned image?): OCR it first")
    meta = info
    if sidecar_name:
        label = f"sidecar {sidecar_name}"
        try:
            mapping = yaml_mapping(decode_text(sidecar), label, first_line=1)
        except Unreadable as exc:
            raise Unreadable(str(exc) if label in str(exc) else f"{label}: {exc}") from None
        meta = metadata_from_mapping(mapping).over(info)
    return Parts(RenderedText(text, ()), meta, None, starts)


def _why_unreadable(raw: bytes, exc: Exception) -> str:
    """What a file pypdf could not read really is, when that says what to do: pypdf's own
    words ("Stream has ended unexpectedly") fit a text file, a cut-off download and junk."""
    if b"%PDF-" not in raw[:1024]:  # where every PDF says it is one
        if not raw.strip():
            return "an empty file, not a PDF: download it again"
        if _HTML_START.match(raw[:1024]):
            return "an HTML page, not a PDF: rename it to .html"
        try:
            text = decode_text(raw)
        except Unreadable:
            text = "\x00"
        if not CONTROLS.search(text):
            return "not a readable PDF (it holds plain text): rename it to .txt"
    elif b"%%EOF" not in raw[-1024:]:  # the end marker every complete PDF has
        return "not a readable PDF (cut off: no end marker): download it again"
    return f"not a readable PDF ({brief(exc)})"


def _join_pages(pages: list[str | None]) -> tuple[str, tuple[int, ...]]:
    """Pages joined by "\n\n", and where each starts; an empty page starts where the next does."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page_text in pages:
        # NFKC unfolds the ligatures (ﬁ, ﬂ) that PDF text layers are full of, so words match.
        text = unicodedata.normalize("NFKC", CONTROLS.sub("", page_text or ""))
        text = clean_text(text, verbatim=True).strip()
        if text and offset:
            parts.append("\n\n")
            offset += 2
        starts.append(offset if text else -1)
        parts.append(text)
        offset += len(text)
    for i in range(len(starts) - 1, -1, -1):
        if starts[i] < 0:
            starts[i] = starts[i + 1] if i + 1 < len(starts) else offset
    return "".join(parts), tuple(starts)


def _decrypt(reader: Any) -> None:
    """Open a PDF encrypted with an empty user password (permissions only), or say why not."""
    from pypdf.errors import DependencyError

    try:
        opened = reader.decrypt("")
    except DependencyError:
        raise Unreadable(
            "PDF is encrypted with AES, which needs the cryptography package: "
            "pip install cryptography, or save a copy without encryption"
        ) from None
    if not opened:
        raise Unreadable("PDF is encrypted: save a copy without a password and add that")


def _pages_text(reader: Any) -> list[str | None]:
    """Every page's text, within PDF_SECONDS plus PDF_PAGE_SECONDS a page (Unreadable past it).

    pypdf gives up on a content stream only after millions of operators, 6-10 s a page, and a
    12 KB file can point all its pages at one such stream: without a budget one file held a
    build for hours. A 1,000-page report at 0.2 s a page stays well inside; no file gets more
    than PDF_MAX_SECONDS."""
    pages = reader.pages
    budget = min(PDF_SECONDS + PDF_PAGE_SECONDS * len(pages), PDF_MAX_SECONDS)
    start = _clock()  # this thread's CPU time: a busy machine does not eat the budget
    texts: list[str | None] = []
    for page in pages:
        if _clock() - start > budget:
            raise Unreadable(
                f"reading its text took over {budget:.0f} s of CPU ({len(texts)} of "
                f"{len(pages)} pages): split it, or give its text as a .txt file"
            )
        texts.append(_page_text(page))
    return texts


def _page_text(page: Any) -> str | None:
    """One page's text; None when that page is damaged (the others are still worth reading)."""
    try:
        return str(page.extract_text() or "")
    except Exception:
        return None


def _pdf_info(reader: Any) -> Metadata:
    try:
        info = reader.metadata or {}
        root = reader.trailer["/Root"]
        lang = root.get("/Lang") if hasattr(root, "get") else None
        title = one_line(info.get("/Title"))
        author = one_line(info.get("/Author"))
        created = info.get("/CreationDate")
    except Exception:  # metadata is optional; a damaged info dictionary must not lose the text
        return Metadata()
    if title and _PLACEHOLDER_TITLE.fullmatch(title):
        title = None  # what PDF writers fill in when the author gave no title
    return Metadata(
        title=title,
        author=author,
        published=normalize_date(str(created) if created else None),
        language=normalize_language(str(lang) if lang else None),
    )
