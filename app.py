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
    upload_limits,
)

CORPUS_DIR = Path(os.environ.get("COVERAGE_SEARCH_CORPUS", "corpus"))
INDEX_DIR = Path(os.environ.get("COVERAGE_SEARCH_INDEX", "index"))
EXAMPLES = (
    "Why did Dario Amodei leave OpenAI?",
    "What did Anthropic say about tokenized shares?",
    "What is Anthropic's Responsible Scaling Policy?",
)
MODE_LABELS = {"hybrid": "Hybrid (recommended)", "semantic": "Semantic", "keyword": "Keyword"}
CONTEXT_CHARS = 600  # of document text shown on each side of a passage
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
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
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


def context_md(before: str, passage: str, after: str) -> str:
    """The passage in bold between the text around it; … where the document goes on."""
    lead = ("…" if len(before) >= CONTEXT_CHARS else "") + text_md(before.lstrip())
    tail = text_md(after.rstrip()) + ("…" if len(after) >= CONTEXT_CHARS else "")
    # Markdown bold cannot span paragraphs: embolden each paragraph of the passage on its own.
    bold = "\n\n".join(f"**{p.strip()}**" for p in text_md(passage.strip()).split("\n\n"))
    return f"{lead} {bold} {tail}".strip()


def answer_md(answer: Answer) -> str:
    """The answer's sentences, each followed by its [n] marker linking to that sentence."""
    return " ".join(
        f"{text_md(c.sentence)} {link_md(f'&#91;{c.number}&#93;', c.link)}"
        for c in answer.sentences
    )


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# -- engine (cached once per process, shared by every session) --------------------------------


@st.cache_resource(show_spinner="Loading the index and the model…", max_entries=2)
def open_index(index_dir: str, live_build: str) -> CoverageIndex:
    """The index and its model, loaded once per live build; warm so the first question is fast.

    `live_build` only keys the cache: when a build elsewhere (`coverage-search build` or
    `update` from cron) switches the index, the next run reopens it; the model stays loaded.
    """
    index = CoverageIndex.open(index_dir)
    index.warm_up()
    return index


def live_build() -> str:
    """The name of the live build, or "" when none."""
    return CoverageIndex.live_build_name(INDEX_DIR)


def run_build(where: st.delta_generator.DeltaGenerator) -> BuildReport | None:
    """Build or refresh the index with a progress bar; reopen it for every session."""
    bar = where.progress(0.0, text="Reading the corpus…")

    def on_progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=f"{stage}: {done} of {total}")

    try:
        report = CoverageIndex.build(CORPUS_DIR, INDEX_DIR, progress=False, on_progress=on_progress)
    except CoverageSearchError as exc:
        bar.empty()
        where.error(text_md(str(exc)))
        return None
    bar.empty()  # the new build has a new name in CURRENT, so open_index reopens it
    if notice := skipped_notice(report):
        st.session_state["build_notice"] = notice
    return report


def skipped_notice(report: BuildReport) -> str | None:
    """One line naming the corpus files that could not be read, if any."""
    problems = [s for s in report.skipped if s.error]
    if not problems:
        return None
    return "Not indexed: " + "; ".join(f"{text_md(s.path)} ({text_md(s.reason)})" for s in problems)


# -- sidebar ------------------------------------------------------------------------------------

Box = st.delta_generator.DeltaGenerator


def add_coverage(box: Box) -> None:
    """Upload a file into corpus/, index it incrementally, make it searchable now."""
    # The upload box refuses files over server.maxUploadSize (.streamlit/config.toml) in the
    # browser, and the form then arrives with no file: every message states the limits.
    max_bytes = int(st.get_option("server.maxUploadSize")) * 1024 * 1024
    limits = upload_limits(max_bytes)
    with box.form("upload", clear_on_submit=True):
        st.markdown("**Add coverage**")  # into the corpus folder, then indexed
        upload = st.file_uploader(
            "Markdown, text, HTML or PDF", type=UPLOAD_TYPES, key="upload_file", help=limits
        )
        submitted = st.form_submit_button("Add to the index", key="add")
    if not submitted:
        return
    if upload is None:
        box.warning(text_md(f"Choose a file first ({limits}; the box refuses larger ones)."))
        return
    try:
        stored = store_upload(CORPUS_DIR, upload.name, upload.getvalue(), max_bytes=max_bytes)
    except UploadError as exc:
        box.error(text_md(str(exc)))
        return
    if stored.existing:
        box.info(f"{text_md(stored.doc_id)} is already in the corpus; nothing changed.")
        return
    report = run_build(box)
    rejected = report is not None and any(s.path == stored.doc_id for s in report.skipped)
    if report is None or rejected:
        stored.path.unlink(missing_ok=True)  # the index did not take it: leave corpus/ as it was
        if rejected:
            box.error(f"{text_md(upload.name)} could not be indexed; nothing was added.")
            run_build(box)
        return
    box.success(
        f"Added {text_md(stored.doc_id)} ({plural(report.embedded, 'new passage')}); "
        "searchable now."
    )


def index_facts(box: Box, stats: IndexStats) -> None:
    earliest, latest = stats.earliest or "?", stats.latest or "?"
    with box.expander("Index facts"):
        st.markdown(
            f"- **{stats.documents}** documents, **{stats.passages}** passages\n"
            f"- **{len(stats.outlets)}** outlets\n"
            f"- published {text_md(earliest[:10])} to {text_md(latest[:10])}\n"
            f"- model {text_md(stats.model)} ({text_md(stats.backend)}, {stats.dimension} dims,"
            f" {stats.vector_index})\n"
            f"- built {text_md(stats.built_at[:19].replace('T', ' '))}, "
            f"{stats.index_bytes / 1e6:.1f} MB"
        )
        if st.button("Update from corpus/", key="update",
                     help="Index what was added or changed in the corpus folder"):
            report = run_build(box)
            if report is not None:
                st.rerun()


def _bound(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _one_date(value: object) -> date | None:
    return value if isinstance(value, date) else None


@dataclass(frozen=True, slots=True)
class Options:
    """What the sidebar asks for: retrieval mode, number of passages, filters."""

    mode: str
    k: int
    outlets: list[str]
    since: date | None
    until: date | None


def search_options(box: Box, stats: IndexStats) -> Options:
    """Mode, k and filters from the sidebar (dates bounded by what the index holds)."""
    box.header("Search")
    mode = box.selectbox(
        "Mode", MODES, format_func=lambda m: MODE_LABELS.get(m, m), key="mode",
        help="Hybrid fuses meaning (semantic) and exact words (keyword).",
    )
    k = box.slider("Passages", 1, 20, 5, key="k")
    outlets = box.multiselect("Outlets", stats.outlets, key="outlets", placeholder="All outlets")
    low, high = _bound(stats.earliest), _bound(stats.latest)
    since = box.date_input("Published since", value=None, min_value=low, max_value=high,
                           key="since")
    until = box.date_input("Published until", value=None, min_value=low, max_value=high,
                           key="until")
    return Options(str(mode or "hybrid"), k, outlets, _one_date(since), _one_date(until))


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
            st.caption(f"Source file in the corpus: {text_md(hit.doc_id)}")
        with st.expander("Show surrounding text"):
            st.markdown(context_md(*index.passage_context(hit, chars=CONTEXT_CHARS)))
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
        st.warning(text_md(answer.message))  # names outlets taken from documents
        return
    st.subheader("Answer")
    if answer.found:
        st.markdown(answer_md(answer))
        st.caption(
            "Quoted verbatim from the passages below; each [n] opens its source at that sentence."
        )
    else:
        st.info(text_md(answer.message))
    st.subheader("Passages")
    for number, hit in enumerate(answer.hits, start=1):
        quoted = [c.sentence for c in answer.sentences if c.number == number]
        show_hit(index, number, hit, quoted)


def use_example() -> None:
    """Put the picked example into the question box (and ask it), then clear the pick."""
    example = st.session_state.get("example")
    if example:
        st.session_state["question"] = example
    st.session_state["example"] = None


def question_box() -> str:
    with st.form("ask", border=False):
        left, right = st.columns([6, 1], vertical_alignment="bottom")
        question = left.text_input(
            "Question", key="question", placeholder="Ask about the coverage…",
            label_visibility="collapsed",
        )
        right.form_submit_button("Ask", type="primary", key="ask", use_container_width=True)
    st.pills("Examples", EXAMPLES, key="example", on_change=use_example,
             label_visibility="collapsed")
    return str(question or "")


# -- page ----------------------------------------------------------------------------------------


def no_index(exc: CoverageSearchError) -> None:
    """Explain why there is nothing to search and offer to build it."""
    if isinstance(exc, NoIndexError):
        st.info(
            f"There is no index at {text_md(str(INDEX_DIR))} yet. "
            f"Build it from the files in {text_md(str(CORPUS_DIR))} to start asking."
        )
    else:
        st.error(text_md(str(exc)))
    if st.button("Build the index", type="primary", key="build") and run_build(st.container()):
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="Coverage search", page_icon="🔎", layout="centered")
    st.title("Coverage search")
    st.caption("Ask the news coverage of the AI industry. Answers quote the sources verbatim.")
    # Sidebar slots in display order; the upload is handled first so a new file is searchable
    # in this very run.
    settings_box, facts_box, upload_box = (st.sidebar.container() for _ in range(3))
    add_coverage(upload_box)
    if notice := st.session_state.pop("build_notice", None):
        st.warning(notice)
    try:
        index = open_index(str(INDEX_DIR), live_build())
    except CoverageSearchError as exc:
        no_index(exc)
        st.stop()

    stats = index.stats()
    options = search_options(settings_box, stats)
    index_facts(facts_box, stats)
    question = question_box()
    if not question.strip():
        st.info("Type a question above, or pick one of the examples.")
        st.stop()
    try:
        answer = index.answer(
            question, k=options.k, mode=options.mode, outlets=options.outlets or None,
            since=options.since, until=options.until,
        )
    except QueryError as exc:
        st.warning(text_md(str(exc)))
        st.stop()
    except CoverageSearchError as exc:
        st.error(text_md(str(exc)))
        st.stop()
    show_answer(index, answer)


main()
