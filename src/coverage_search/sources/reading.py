"""Pieces the format readers share: the rejection reason, their result, text decoding, YAML."""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from coverage_search.sources.markdown import RenderedText
from coverage_search.sources.metadata import Metadata

CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls but \t \n \v \f \r
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})  # spaces, controls, format characters
MAX_YAML_CHARS = 64 * 1024  # front matter and sidecars hold metadata, never an article
MAX_FAST_NESTING = 256
_NESTING = re.compile(r"[\[{]|[-?](?=\s|\Z)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.M | re.S)
_ASCII_PROBE = b"The quick brown fox 0123456789 .,;:!?\n"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),  # before UTF-16: its BOM starts the same way
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def visible(text: str) -> bool:
    """True when `text` holds a character a reader sees: not only spaces, zero-width spaces,
    soft hyphens or byte-order marks (which embed close to anything, so such a file was the
    first hit of every semantic query)."""
    return any(unicodedata.category(c) not in _INVISIBLE for c in text)


class Unreadable(Exception):
    """A reader's one-phrase reason for rejecting a file; read_document adds the path."""


@dataclass(frozen=True, slots=True)
class Parts:
    """What a format reader found: text and headings, metadata, a fallback title, PDF pages."""

    rendered: RenderedText
    meta: Metadata = field(default_factory=Metadata)
    title: str | None = None
    page_starts: tuple[int, ...] = ()
    flattened: bool = False  # HTML nested too deep for a tree: every visible line, no layout


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, else a confident guess; or Unreadable."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                raise Unreadable(f"not valid {codec.upper()} text: re-save it as UTF-8") from None
    if b"\x00" in raw:
        raise Unreadable(UTF16_WITHOUT_BOM if utf16_without_bom(raw) else "binary data, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    guessed = _guess_encoding(raw)
    if guessed is None:
        raise Unreadable(
            "not UTF-8 text and the encoding could not be detected: re-save it as UTF-8"
        )
    return guessed


UTF16_WITHOUT_BOM = "UTF-16 text without a byte-order mark: re-save it as UTF-8"


def utf16_without_bom(raw: bytes) -> bool:
    """Whether `raw` starts as mostly-ASCII text saved as UTF-16 without its byte-order mark.

    Only to say so: "binary data" named no fix. It is still not decoded, since the byte order
    and whether it is text at all would be guesses. Mostly ASCII, because a UTF-8 file with a
    stray NUL read in pairs is as free of control characters, but all CJK.
    """
    head = raw[:4096]
    for codec in ("utf-16-le", "utf-16-be"):
        try:  # incremental: the cut may split a surrogate pair
            text = codecs.getincrementaldecoder(codec)().decode(head)
        except UnicodeDecodeError:
            continue
        if not CONTROLS.search(text) and sum(c < "\x80" for c in text) * 2 > len(text):
            return True
    return False


def _guess_encoding(raw: bytes) -> str | None:
    """charset_normalizer's reading, only when it is confident and shows no control characters."""
    import charset_normalizer

    candidates = []
    for match in charset_normalizer.from_bytes(raw):
        try:  # EBCDIC and BOM-less UTF-16 guesses turn plain ASCII into nonsense
            ascii_safe = _ASCII_PROBE.decode(match.encoding) == _ASCII_PROBE.decode("ascii")
        except (UnicodeDecodeError, LookupError):
            ascii_safe = False
        if ascii_safe and match.percent_chaos <= 10:
            candidates.append(match)
    if not candidates:
        return None
    best_chaos = min(m.percent_chaos for m in candidates)
    tied = [m for m in candidates if m.percent_chaos <= best_chaos + 1]
    # Equally clean guesses differ in a few accented letters only, and charset_normalizer ranks
    # cp775 or cp1250 first even for French; Windows-1252 is what such files nearly always are.
    chosen = next((m for m in tied if m.encoding == "cp1252"), tied[0])
    text = str(chosen)
    return None if CONTROLS.search(text) else text


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter mapping, body) of a Markdown or text file; Unreadable when it is broken."""
    if "\r" in text:  # Windows (or old Mac) line ends: front matter's --- lines are found too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not re.match(r"---[ \t]*\n", text):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise Unreadable("front matter starts with --- but has no closing --- line: close it")
    return yaml_mapping(match["yaml"], "front matter", first_line=2), text[match.end() :]


def yaml_mapping(source: str, label: str, *, first_line: int) -> dict[str, Any]:
    """Parse YAML that must be a mapping (front matter, sidecar); keys lower-cased."""
    import yaml

    if len(source) > MAX_YAML_CHARS:
        raise Unreadable(f"{label} is over 64 KiB: shorten it (it holds metadata, not the article)")
    try:
        data = _load(source)
    except _AliasRefused:
        raise Unreadable(
            f"{label} uses YAML aliases, which are not allowed: write the values out"
        ) from None
    except yaml.YAMLError as exc:
        # context_mark is where an unclosed bracket or quote began; problem_mark where it broke.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + first_line})" if mark is not None else ""
        raise Unreadable(f"{label} is not valid YAML{where}: fix it or remove it") from None
    except RecursionError:
        raise Unreadable(f"{label} is nested too deeply: fix it or remove it") from None
    except Exception as exc:  # a tag's constructor failing (`!!int x`) must not stop a build
        raise Unreadable(f"{label} cannot be read ({brief(exc)}): fix it or remove it") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Unreadable(f"{label} is not a list of `key: value` lines: fix it or remove it")
    try:
        return {str(k).strip().lower(): v for k, v in data.items()}
    except ValueError:  # a key no string can hold (an integer of over 4,300 digits)
        raise Unreadable(f"{label} has a key that is not text: fix it or remove it") from None


def _load(source: str) -> Any:
    """The YAML of `source` through libyaml when it is shallow, else through PyYAML's parser.

    Text libyaml refuses goes through PyYAML's parser too, whose verdict stands: it reads some
    that libyaml does not (an emoji written as escaped surrogate halves, a BOM mid-text), and
    the reading of a file must not depend on which parser its nesting picked.
    """
    import yaml

    if _shallow(source):
        loader = _metadata_loader(True)
        try:
            # libyaml's composer cannot be overridden: its events say whether anchors or
            # aliases are used, and neither can appear without a "&" or "*".
            if ("&" in source or "*" in source) and any(
                isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)
                for event in yaml.parse(source, Loader=loader)
            ):
                raise _AliasRefused
            return yaml.load(source, Loader=loader)
        except yaml.YAMLError:
            pass
    # Refuses anchors and aliases while composing (compose_node): a scan of its events first
    # took minutes on 64 KiB of nested brackets, where composing stops at Python's recursion
    # limit.
    return yaml.load(source, Loader=_metadata_loader(False))


class _AliasRefused(Exception):
    """YAML anchors and aliases: a few hundred bytes of them expand to gigabytes."""


def _shallow(source: str) -> bool:
    """Whether libyaml may read `source`: at most MAX_FAST_NESTING tokens that open a level.

    libyaml recurses in C: 30,000 nested "[" or "- " crash the process, where the pure-Python
    parser raises RecursionError. Indentation alone nests at most ~360 levels in 64 KiB, which
    libyaml reads (it read 10,000 nested brackets), so a level opened by a flow bracket or a
    "-" or "?" indicator is what is counted.
    """
    return len(_NESTING.findall(source)) <= MAX_FAST_NESTING


@functools.cache
def _metadata_loader(fast: bool) -> type:
    """A SafeLoader that keeps dates, numbers and yes/no as the text written; libyaml's
    parser when `fast`.

    Through PyYAML's own parser, front matter was 23% of reading a Markdown file, and 4%
    through libyaml (bench/bench_reading.py, results/reading.md).
    """
    import yaml

    timestamp = "tag:yaml.org,2002:timestamp"
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if fast else yaml.SafeLoader

    class MetadataLoader(base):  # type: ignore[misc, valid-type]
        def compose_node(self, parent: Any, index: Any) -> Any:  # PyYAML's parser only
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _AliasRefused
            return super().compose_node(parent, index)

    # `published: 2026-02-30` would raise ValueError while loading; as text, normalize_date
    # drops just that date and the document is kept.
    MetadataLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != timestamp]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }

    def as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None

    # Every metadata value is text, so a scalar stays as written: YAML 1.1 would read
    # `language: no` (Norwegian) as False, `title: yes` as True and `title: 012` as 10.
    for tag in (timestamp, "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int"):
        MetadataLoader.add_constructor(tag, as_text)
    MetadataLoader.add_constructor("tag:yaml.org,2002:float", as_text)
    return MetadataLoader


def one_line(value: object) -> str | None:
    """A value as a single-line string, None when empty."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def brief(exc: BaseException) -> str:
    """An exception as a short phrase for a one-line reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
