"""A web page → an Article (main text as Markdown, metadata) ready to save in corpus/."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from coverage_search.ingest.catalog import canonical_url, same_site
from coverage_search.sources.metadata import Metadata, outlet_from_url
from coverage_search.sources.urls import is_web_url

# Less text than this besides the title is not an article: a "You need to enable JavaScript"
# shell (38 letters), a paywall teaser, a reply cut short. Counted in characters, not words:
# Chinese or Japanese has no spaces between words, and a 15-word brief has some 80 letters.
MIN_CHARS = 60


@dataclass(frozen=True, slots=True)
class Article:
    """An extracted web article, ready to be saved as Markdown with front matter."""

    title: str
    body: str  # Markdown, starting with "# <title>"
    url: str | None = None
    outlet: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    fetched_at: str | None = None
    fetched_from: str | None = None  # the URL asked for, when it differs from `url`
    feed: str | None = None

    def to_markdown(self) -> str:
        """The file's content: YAML front matter, a blank line, the Markdown body."""
        import yaml

        fields = ("title", "url", "outlet", "published", "author", "language", "fetched_at")
        meta = {k: getattr(self, k) for k in (*fields, "fetched_from", "feed")}
        head = yaml.safe_dump(
            {k: v for k, v in meta.items() if v}, allow_unicode=True, sort_keys=False, width=1000
        )
        return f"---\n{head}---\n\n{self.body.strip()}\n"


def article_from_html(
    html: str, *, url: str | None = None, hints: Metadata | None = None
) -> Article:
    """Main text as Markdown and metadata of a web page (trafilatura).

    ValueError (with the reason) when the page holds no article text. `hints` (a feed entry's
    title, date, author) fill what the page itself does not say.
    """
    import trafilatura
    from trafilatura.settings import set_date_params

    from coverage_search.sources.html import read_html, tame_markup
    from coverage_search.sources.reading import Unreadable

    html = tame_markup(html.encode("utf-8")).decode("utf-8")  # read twice: both parses fast
    try:
        parts = read_html(html.encode("utf-8"))
    except Unreadable as exc:
        raise ValueError(str(exc)) from None
    meta = parts.meta.over(hints or Metadata())
    # A page nested too deep for a tree keeps the text read_html found in its bytes.
    markdown = None if parts.flattened else trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_formatting=True,
        include_tables=True,
        include_comments=False,
        with_metadata=False,
        date_extraction_params=set_date_params(extensive=False),
    )  # fmt: skip
    body = (markdown or parts.rendered.text).strip()
    heading, _, rest = body.partition("\n")
    chars = sum(not c.isspace() for c in (rest if heading.startswith("# ") else body))
    if chars < MIN_CHARS:
        # Saved, it would make the URL "known" and its feed entry seen, for good.
        raise ValueError(
            f"only {chars} characters of text besides the title: a page that needs "
            "JavaScript, a paywall or a stub, not an article"
        )
    title = meta.title or parts.title or (hints.title if hints else None) or "Untitled"
    if not body.lstrip().startswith("# "):
        body = f"# {title}\n\n{body}"
    declared = meta.url if is_web_url(meta.url) else None
    if declared and url and _is_front_page(declared) and not _is_front_page(url):
        # Some sites point every article's canonical link at their front page: taken as the
        # address, each article after the first was "already in the corpus" and lost.
        declared = None
    # A canonical link to another site marks a syndicated copy: keep this copy's own address.
    own = declared if declared and (url is None or same_site(declared, url)) else url
    final = canonical_url(own) if own else None
    return Article(
        title=title,
        body=body,
        url=final,
        outlet=meta.outlet or (outlet_from_url(final) if final else None),
        published=meta.published,
        author=meta.author,
        language=meta.language,
    )


def _is_front_page(url: str) -> bool:
    """True for a site's front page: no path beyond "/" and no query."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query
