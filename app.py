"""Streamlit app: ask the coverage a question, read an answer made of cited sentences, add coverage.

Run it with `make run` or `streamlit run app.py`. COVERAGE_SEARCH_CORPUS and COVERAGE_SEARCH_INDEX
choose the folders (default ./corpus and ./index). Everything taken from documents is shown as
text: it is HTML-entity-escaped before it reaches Markdown, and only http(s) links are clickable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

import streamlit as st

from coverage_search import (
    MODES,
    Answer,
    BuildReport,
    CoverageIndex,
    CoverageSearchError,
    IndexStats,
    NoIndexError,
    QueryError,
    SearchHit,
    UploadError,
    store_upload,
)

CORPUS_DIR = Path(os.environ.get("COVERAGE_SEARCH_CORPUS", "corpus"))
INDEX_DIR = Path(os.environ.get("COVERAGE_SEARCH_INDEX", "index"))
EXAMPLES = (
    "Why did Dario Amodei leave OpenAI?",
    "What did Anthropic say about tokenized shares?",
    "What is Anthropic's Responsible Scaling Policy?",
)
MODE_LABELS = {"hybrid": "Hybrid", "semantic": "Semantic", "keyword": "Keyword"}
UPLOAD_TYPES = ["md", "markdown", "txt", "html", "htm", "pdf"]

# -- safe rendering ---------------------------------------------------------------------------

# Everything Markdown, HTML, LaTeX ($) or Streamlit directives (:color[...]) could read as syntax.
_SPECIAL = set("\\`*_{}[]()<>#+-.!|~&\"'$:=^@")
_BLANK_LINE = re.compile(r"\s*\n\s*\n\s*")
_SPACE = re.compile(r"\s+")


def text_md(text: str) -> str:
    """Document text as Markdown that renders as exactly that text (paragraph breaks kept)."""
    text = _BLANK_LINE.sub("\x00", text.replace("\x00", " "))
    text = _SPACE.sub(" ", text)
    out = "".join(f"&#{ord(c)};" if c in _SPECIAL else c for c in text)
    return out.replace("\x00", "\n\n")


def web_url(url: str | None) -> str | None:
    """The URL, made safe for a Markdown link, if it is http(s); None for anything else."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Percent-encode whatever could end the Markdown link target or inject markup.
    return quote(url.strip(), safe=":/?#@!$&*+,;=%~-._")


def link_md(label_md: str, url: str | None) -> str:
    """A Markdown link when `url` is http(s), else just the label."""
    href = web_url(url)
    return f"[{label_md}]({href})" if href else label_md


def highlighted_md(text: str, sentences: Sequence[str]) -> str:
    """The passage as safe Markdown with the quoted sentences highlighted."""
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        at = text.find(sentence)
        if at >= 0:
            spans.append((at, at + len(sentence)))
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(text_md(text[pos:start]))
        out.append(f":orange-background[{text_md(text[start:end])}]")
        pos = end
    out.append(text_md(text[pos:]))
    return "".join(out)


def answer_md(answer: Answer) -> str:
    """The answer's sentences, each followed by its [n] marker linking to that sentence."""
    return " ".join(
        f"{text_md(c.sentence)} {link_md(f'&#91;{c.number}&#93;', c.link)}"
        for c in answer.sentences
    )


# -- engine (cached once per process, shared by every session) --------------------------------


@st.cache_resource(show_spinner="Loading the index and the model…")
def open_index(index_dir: str) -> CoverageIndex:
    """The index and its model, loaded once; warm so the first question is fast too."""
    index = CoverageIndex.open(index_dir)
    index.embedder.encode_query("warm up")
    return index


def run_build(where: st.delta_generator.DeltaGenerator) -> BuildReport | None:
    """Build or refresh the index with a progress bar; reopen it for every session."""
    bar = where.progress(0.0, text="Reading the corpus…")

    def on_progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=f"{stage}: {done} of {total}")

    try:
        report = CoverageIndex.build(CORPUS_DIR, INDEX_DIR, progress=False, on_progress=on_progress)
    except CoverageSearchError as exc:
        bar.empty()
        where.error(str(exc))
        return None
    bar.empty()
    open_index.clear()
    return report


def skipped_notice(report: BuildReport) -> str | None:
    problems = [s for s in report.skipped if s.error]
    if not problems:
        return None
    return "Not indexed: " + "; ".join(f"{s.path} ({s.reason})" for s in problems)


# -- sidebar ------------------------------------------------------------------------------------


def add_coverage() -> None:
    """Upload a file into corpus/, index it incrementally, make it searchable now."""
    with st.sidebar.form("upload", clear_on_submit=True):
        st.markdown("**Add coverage**")
        upload = st.file_uploader(
            "Markdown, text, HTML or PDF", type=UPLOAD_TYPES, key="upload_file"
        )
        submitted = st.form_submit_button("Add to the index", key="add")
    if not submitted:
        return
    if upload is None:
        st.sidebar.warning("Choose a file first.")
        return
    try:
        stored = store_upload(CORPUS_DIR, upload.name, upload.getvalue())
    except UploadError as exc:
        st.sidebar.error(str(exc))
        return
    if stored.existing:
        st.sidebar.info(f"{stored.doc_id} is already in the corpus; nothing changed.")
        return
    report = run_build(st.sidebar)
    if report is None:
        stored.path.unlink(missing_ok=True)  # the index did not take it: leave corpus/ as it was
        return
    st.sidebar.success(
        f"Added {stored.doc_id}: {report.embedded} new passages embedded; searchable now."
    )


def index_facts(stats: IndexStats) -> None:
    earliest, latest = stats.earliest or "?", stats.latest or "?"
    with st.sidebar.expander("Index facts"):
        st.markdown(
            f"- **{stats.documents}** documents, **{stats.passages}** passages\n"
            f"- **{len(stats.outlets)}** outlets\n"
            f"- published {text_md(earliest[:10])} to {text_md(latest[:10])}\n"
            f"- model {text_md(stats.model)} ({stats.dimension} dims, {stats.vector_index})\n"
            f"- built {text_md(stats.built_at[:19].replace('T', ' '))}, "
            f"{stats.index_bytes / 1e6:.1f} MB"
        )
        if st.button("Update from corpus/", help="Index what was added or changed in corpus/") \
                and run_build(st.sidebar) is not None:
            st.rerun()


def _bound(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Options:
    """What the sidebar asks for: retrieval mode, number of passages, filters."""

    mode: str
    k: int
    outlets: list[str]
    since: date | None
    until: date | None


def search_options(stats: IndexStats) -> Options:
    """Mode, k and filters from the sidebar."""
    st.sidebar.header("Search")
    mode = st.sidebar.radio(
        "Mode", MODES, format_func=lambda m: MODE_LABELS.get(m, m), horizontal=True, key="mode"
    )
    k = st.sidebar.slider("Passages", 1, 20, 5, key="k")
    outlets = st.sidebar.multiselect("Outlets", stats.outlets, key="outlets", placeholder="All")
    low, high = _bound(stats.earliest), _bound(stats.latest)
    since = st.sidebar.date_input(
        "Published since", value=None, min_value=low, max_value=high, key="since"
    )
    until = st.sidebar.date_input(
        "Published until", value=None, min_value=low, max_value=high, key="until"
    )
    return Options(mode, k, outlets, _one_date(since), _one_date(until))


def _one_date(value: object) -> date | None:
    return value if isinstance(value, date) else None


# -- results ------------------------------------------------------------------------------------


def meta_line(hit: SearchHit) -> str:
    found = []
    if hit.semantic:
        found.append(f"semantic #{hit.semantic.rank}")
    if hit.keyword:
        found.append(f"keyword #{hit.keyword.rank}")
    parts = [
        text_md(hit.outlet or "unknown outlet"),
        text_md((hit.published or "undated")[:10]),
        f"relevance {hit.score:.2f}" + (f" ({', '.join(found)})" if found else ""),
    ]
    if hit.page:
        parts.append(f"page {hit.page}")
    return " · ".join(parts)


def show_hit(index: CoverageIndex, number: int, hit: SearchHit, quoted: Sequence[str]) -> None:
    with st.container(border=True):
        st.markdown(f"**&#91;{number}&#93; {text_md(hit.title)}**")
        st.caption(meta_line(hit) + (f" · §&#160;{text_md(hit.heading)}" if hit.heading else ""))
        st.markdown(highlighted_md(hit.text, quoted))
        if web_url(hit.link):
            st.markdown(link_md("Open source ↗", hit.link))
        else:
            st.caption(f"Source file: {text_md(hit.link)}")
        with st.expander("Show surrounding text"):
            before, passage, after = index.passage_context(hit)
            st.markdown(
                f"…{text_md(before)} **{text_md(passage)}** {text_md(after)}…"
            )
        if hit.also_in:
            copies = [
                link_md(text_md(c.outlet or c.title), c.url)
                + (f" ({text_md(c.published[:10])})" if c.published else "")
                for c in hit.also_in
            ]
            st.markdown("Also in: " + " · ".join(copies))
        if hit.related:
            cited = [
                link_md(text_md(r.title or r.outlet or r.url), r.url)
                + (f" ({text_md(r.role)})" if r.role else "")
                for r in hit.related
            ]
            st.caption("This document cites: " + " · ".join(cited))


def show_answer(index: CoverageIndex, answer: Answer) -> None:
    if not answer.hits:
        st.warning(answer.message)
        return
    st.subheader("Answer")
    if answer.found:
        st.markdown(answer_md(answer))
        st.caption(
            "Quoted verbatim from the passages below; each [n] opens its source at that sentence."
        )
    else:
        st.info(answer.message)
    st.subheader("Passages")
    for number, hit in enumerate(answer.hits, start=1):
        quoted = [c.sentence for c in answer.sentences if c.number == number]
        show_hit(index, number, hit, quoted)


def set_question(question: str) -> None:
    st.session_state["question"] = question


# -- page ----------------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="Coverage search", page_icon="🔎", layout="centered")
    st.title("Coverage search")
    st.caption("Ask the news coverage of the AI industry. Answers quote the sources verbatim.")

    add_coverage()
    try:
        index = open_index(str(INDEX_DIR))
    except NoIndexError:
        st.info(
            f"There is no index at {text_md(str(INDEX_DIR))} yet. "
            f"Build it from {text_md(str(CORPUS_DIR))} to start asking."
        )
        if st.button("Build the index", type="primary", key="build") and run_build(st.container()):
            st.rerun()
        st.stop()
    except CoverageSearchError as exc:
        st.error(str(exc))
        if st.button("Rebuild the index", type="primary", key="build") \
                and run_build(st.container()):
            st.rerun()
        st.stop()

    stats = index.stats()
    options = search_options(stats)
    index_facts(stats)

    with st.form("ask", border=False):
        question = st.text_input(
            "Question", key="question", placeholder="Ask about the coverage…",
            label_visibility="collapsed",
        )
        st.form_submit_button("Ask", type="primary", key="ask")
    cols = st.columns(len(EXAMPLES))
    for i, (col, example) in enumerate(zip(cols, EXAMPLES, strict=True)):
        col.button(example, key=f"example-{i}", on_click=set_question, args=(example,),
                   use_container_width=True)

    if not question.strip():
        st.info("Type a question above, or pick one of the examples.")
        st.stop()
    try:
        answer = index.answer(
            question, k=options.k, mode=options.mode, outlets=options.outlets or None,
            since=options.since, until=options.until,
        )
    except QueryError as exc:
        st.warning(str(exc))
        st.stop()
    except CoverageSearchError as exc:
        st.error(str(exc))
        st.stop()
    show_answer(index, answer)


main()
