"""Links that land on a passage: URL + text fragment (`#:~:text=`), `#page=N` for PDFs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlunsplit

from coverage_search.sources.urls import split_web_url

DEFAULT_CORPUS_BASE = "corpus"
# A fragment this long is a sign of giant "words" (URLs, base64); the page link alone is better.
MAX_FRAGMENT_CHARS = 2000
# Characters a URL may carry but an HTML attribute or a Markdown link would choke on.
_UNSAFE_IN_URL = {c: quote(c, safe="") for c in " \"'<>`\\{}|^"}
# List markers and quote marks written into plain text; pages draw them, so they are no text.
_MARKER = re.compile(r"[-*•◦▪–—>]|\d{1,3}[.)]")


def _encode(term: str) -> str:
    """Percent-encode a term: all but letters, digits and `_.~` (the spec needs `-,&` encoded)."""
    return quote(term, safe="").replace("-", "%2D")


def text_fragment(text: str, *, words: int = 4) -> str:
    """`#:~:text=start,end` from the first and last `words` words (whole text when short)."""
    lines: list[list[str]] = []
    for line in text.splitlines():
        line_words = line.split()
        if line_words and _MARKER.fullmatch(line_words[0]):
            line_words = line_words[1:]
        if line_words:
            lines.append(line_words)
    if not lines:
        return ""
    # A term must not cross a line break: that is usually a block boundary on the page,
    # and browsers do not match one term across blocks.
    first, last = lines[0], lines[-1]
    if len(lines) == 1 and len(first) <= 2 * words:
        directive = _encode(" ".join(first))
    else:
        start = " ".join(first[:words])
        end = " ".join(last[-words:])
        directive = f"{_encode(start)},{_encode(end)}"
    fragment = f"#:~:text={directive}"
    return fragment if len(fragment) <= MAX_FRAGMENT_CHARS else ""


def _http_url(url: str | None) -> tuple[str, str, str, str] | None:
    """(scheme, host, path, query) of an http(s) URL with a host; None for anything else."""
    parts = split_web_url(url)
    if parts is None:
        return None
    path, query = _safe(parts.path), _safe(parts.query)
    return parts.scheme.lower(), _safe(parts.netloc), path, query


def _safe(part: str) -> str:
    """Percent-encode characters that could break out of an HTML attribute or a Markdown link."""
    return "".join(_UNSAFE_IN_URL.get(c, c) for c in part if c >= " " and c != "\x7f")


def corpus_base(recorded: object, given: object, index_dir: Path | None = None) -> str:
    """Where a build's corpus files link: the absolute folder it recorded as a file:// URI, so
    a link works from any folder; else (builds from before) the folder as it was given.

    A project moved whole (corpus and index together) no longer has the recorded folder; its
    links then go to the folder of that name beside the index, where the corpus now is."""
    if isinstance(recorded, str) and Path(recorded).is_absolute():
        folder = Path(recorded)
        if index_dir is not None and not folder.is_dir():
            beside = Path(index_dir).absolute().parent / folder.name
            if beside.is_dir():
                folder = beside
        return folder.as_uri()
    return str(given or DEFAULT_CORPUS_BASE)


def corpus_link(path: str, *, corpus_url_base: str | None = None) -> str:
    """Where a corpus file is served: `<base>/<path>`, each path segment percent-encoded."""
    base = _safe(corpus_url_base or DEFAULT_CORPUS_BASE).rstrip("/")
    # A doc id's folders are "/" (as_posix); a backslash is part of a Linux file name.
    encoded = "/".join(quote(seg, safe="") for seg in path.split("/") if seg)
    return f"{base}/{encoded}"


def passage_link(
    url: str | None,
    path: str,
    passage_text: str,
    *,
    page: int | None = None,
    corpus_url_base: str | None = None,
) -> str:
    """The link a hit shows: the document's web page scrolled to the passage, or its corpus file.

    Only http(s) URLs are used; any other scheme (javascript:, data:, file:) falls back to the
    corpus file, since the app renders these links. PDFs (`page` set) get `#page=N`: on the
    URL when it is a PDF itself, else on the corpus file.
    """
    parsed = _http_url(url)
    if page is not None:
        if parsed is not None and parsed[2].lower().endswith(".pdf"):
            return urlunsplit((*parsed, f"page={page}"))
        return f"{corpus_link(path, corpus_url_base=corpus_url_base)}#page={page}"
    fragment = text_fragment(passage_text)
    if parsed is not None:
        return urlunsplit((*parsed, "")) + fragment
    return corpus_link(path, corpus_url_base=corpus_url_base) + fragment
