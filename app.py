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

import altair as alt  # ships with Streamlit
import streamlit as st

from coverage_search import (
    FORMATS,
    MAX_QUERY_CHARS,
    MEDIA_TYPES,
    MODES,
    SUFFIXES,
    Answer,
    BuildReport,
    Coverage,
    CoverageIndex,
    CoverageSearchError,
    IndexCorruptError,
    IndexStats,
    NoIndexError,
    QueryError,
    SearchHit,
    Watch,
    add_watch,
    check_corpus,
    export_answer,
    list_watches,
    remove_watch,
    run_watches,
    store_upload,
    upload_limits,
)


def env_folder(name: str, default: str) -> Path:
    """$name, or `default` when it is unset, empty or blanks: Path("") is the current folder,
    which uploads would fill, and " " a folder no one meant."""
    value = os.environ.get(name, "")
    return Path(value if value.strip() else default)


CORPUS_DIR = env_folder("COVERAGE_SEARCH_CORPUS", "corpus")
EARLIEST_DATE, LATEST_DATE = date(1800, 1, 1), date(2200, 12, 31)  # what the date boxes take
INDEX_DIR = env_folder("COVERAGE_SEARCH_INDEX", "index")
EXAMPLES = (
    "Why did Dario Amodei leave OpenAI?",
    "What did Anthropic say about tokenized shares?",
    "What is Anthropic's Responsible Scaling Policy?",
)
MODE_LABELS = {"hybrid": "Hybrid (recommended)", "semantic": "Semantic", "keyword": "Keyword"}
CONTEXT_CHARS = 600  # of document text shown on each side of a passage
UPLOAD_TYPES = ["md", "markdown", "txt", "html", "htm", "pdf"]
SORT_LABELS = {"relevance": "Relevance", "date": "Newest first"}
FORMAT_LABELS = {"markdown": "Markdown", "csv": "CSV", "ris": "RIS (cited articles)"}
RECENCY = 0.2  # the weight "Favour recent coverage" gives (see README, bench/results/recency.md)
UNDATED = "Undated"

# -- safe rendering ---------------------------------------------------------------------------

# Everything Markdown, HTML, LaTeX ($) or Streamlit directives (:color[...]) could read as syntax.
_SPECIAL = set("\\`*_{}[]()<>#+-.!|~&\"'$:=^@")
_BLANK_LINE = re.compile(r"\s*\n\s*\n\s*")
_SPACE = re.compile(r"\s+")
# Streamlit's Markdown (remark-gfm) turns bare "www.", "http(s)://" and e-mail addresses in
# plain text into links after every escape is decoded, so escaping cannot stop it. An invisible
# WORD JOINER inside each pattern does; links the app means to make go through `link_md`.
_AUTOLINK = re.compile(r"(?i)(?<=www)(?=\.)|(?<=https)(?=:)|(?<=http)(?=:)|(?<=[\w.+-])(?=@[\w-])")
_JOINER = "\u2060"


def text_md(text: str) -> str:
    """Document text as Markdown that renders as exactly that text (paragraph breaks kept)."""
    text = _BLANK_LINE.sub("\x00", text.replace("\x00", " "))
    text = _AUTOLINK.sub(_JOINER, _SPACE.sub(" ", text))
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
    if n != 1 and noun.endswith("story"):
        return f"{n} {noun[:-1]}ies"
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


def forget_if_damaged(exc: CoverageSearchError) -> None:
    """Drop the open index when its files were damaged under it: the next run opens it again,
    repaired or saying what is wrong, where the cached one would fail the same way for good."""
    if isinstance(exc, IndexCorruptError):
        open_index.clear()


def live_build() -> str:
    """The name of the live build, or "" when none."""
    return CoverageIndex.live_build_name(INDEX_DIR)


def run_build(where: st.delta_generator.DeltaGenerator) -> BuildReport | None:
    """Build or refresh the index with a progress bar; reopen it for every session."""
    bar = where.progress(0.0, text="Reading the corpus…")

    def on_progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=f"{stage}: {done} of {total}")

    try:
        check_corpus(CORPUS_DIR, INDEX_DIR)  # an app started elsewhere must not empty the index
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
    """One line naming the corpus files that could not be read, or read in part, if any."""
    problems = [s for s in report.skipped if s.error]
    parts = []
    if problems:
        parts.append(
            "Not indexed: "
            + "; ".join(f"{text_md(s.path)} ({text_md(s.reason)})" for s in problems)
        )
    if report.notices:
        parts.append(
            "Indexed, with a problem: "
            + "; ".join(f"{text_md(n.path)} ({text_md(n.reason)})" for n in report.notices)
        )
    return " ".join(parts) or None


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
        check_corpus(CORPUS_DIR, INDEX_DIR)  # before the file goes into a corpus folder
        stored = store_upload(CORPUS_DIR, upload.name, upload.getvalue(), max_bytes=max_bytes)
    except CoverageSearchError as exc:
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
    sort: str = "relevance"
    recency: float = 0.0
    literal: bool = False  # search the words as typed (no "the ChatGPT maker" → OpenAI)


def search_options(box: Box, stats: IndexStats) -> Options:
    """Mode, k and filters from the sidebar (dates bounded by what the index holds)."""
    box.header("Search")
    mode = box.selectbox(
        "Mode", MODES, format_func=lambda m: MODE_LABELS.get(m, m), key="mode",
        help="Hybrid fuses meaning (semantic) and exact words (keyword).",
    )
    k = box.slider("Passages", 1, 20, 5, key="k")
    outlets = box.multiselect("Outlets", stats.outlets, key="outlets", placeholder="All outlets")
    # Any date may be typed: the box ignores one outside its range with only a red note, and
    # the search then ran unfiltered. The coverage's own span is in the help instead.
    low, high = _bound(stats.earliest), _bound(stats.latest)
    span = f"The coverage runs from {low} to {high}." if low and high else None
    since = box.date_input("Published since", value=None, min_value=EARLIEST_DATE,
                           max_value=LATEST_DATE, key="since", help=span)
    until = box.date_input("Published until", value=None, min_value=EARLIEST_DATE,
                           max_value=LATEST_DATE, key="until", help=span)
    sort = box.radio("Sort passages", list(SORT_LABELS), format_func=SORT_LABELS.get,
                     key="sort", horizontal=True, help="Newest first lists undated ones last.")
    recent = box.checkbox("Favour recent coverage", key="recency",
                          help="Nudge newer passages up before the cut (off by default).")
    literal = box.checkbox("Search the words as typed", key="literal",
                           help="Do not replace descriptions such as 'the ChatGPT maker' with "
                           "names (off by default).")
    return Options(str(mode or "hybrid"), k, outlets, _one_date(since), _one_date(until),
                   str(sort or "relevance"), RECENCY if recent else 0.0, bool(literal))


# -- results ------------------------------------------------------------------------------------


def meta_line(hit: SearchHit, scale: str = "relevance") -> str:
    found = []
    if hit.semantic:
        found.append(f"semantic #{hit.semantic.rank}")
    if hit.keyword:
        found.append(f"keyword #{hit.keyword.rank}")
    parts = [
        text_md(hit.outlet or "unknown outlet"),
        text_md((hit.published or "undated")[:10]),
        f"{scale} {hit.score:.2f}" + (f" ({', '.join(found)})" if found else ""),
    ]
    if hit.page:
        parts.append(f"page {hit.page}")
    return " · ".join(parts)


def show_hit(
    index: CoverageIndex, number: int | None, hit: SearchHit, quoted: Sequence[str],
    scale: str = "relevance",
) -> None:
    with st.container(border=True):
        mark = f"&#91;{number}&#93; " if number is not None else ""
        st.markdown(f"**{mark}{text_md(hit.title)}**")
        heading = f" · §&#160;{text_md(hit.heading)}" if hit.heading else ""
        st.caption(meta_line(hit, scale) + heading)
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


def in_order(hits: Sequence[SearchHit], sort: str) -> list[tuple[int, SearchHit]]:
    """(number, hit) pairs: numbers stay those of the answer's [n]; dates may reorder them."""
    numbered = list(enumerate(hits, start=1))
    if sort != "date":
        return numbered
    dated = sorted((p for p in numbered if _bound(p[1].published)),
                   key=lambda p: (p[1].published or "")[:10], reverse=True)
    return dated + [p for p in numbered if not _bound(p[1].published)]


def show_answer(
    index: CoverageIndex, answer: Answer, options: Options, picked: list[SearchHit] | None = None,
    picked_label: str = "",
) -> None:
    if answer.searched_as:  # "the ChatGPT maker" was searched as OpenAI: say so
        st.caption(f"Searched as: {text_md(answer.searched_as)}")
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
    export_box(answer)
    st.subheader("Passages")
    if picked is not None:
        st.caption(f"{plural(len(picked), 'story')} {picked_label}; clear the selection above "
                   "to see the best passages again (the answer's [n] among them).")
        listed = {(h.doc_id, h.passage_id): (n, h) for n, h in enumerate(answer.hits, start=1)}
        for _, hit in in_order(picked, options.sort):
            # A passage the answer lists is shown as it is listed there; the timeline's other
            # stories were ranked with the document prior, a scale of their own.
            number, hit = listed.get((hit.doc_id, hit.passage_id), (None, hit))
            quoted = [c.sentence for c in answer.sentences if c.number == number]
            show_hit(index, number, hit, quoted, "relevance" if number else "story score")
        return
    for number, hit in in_order(answer.hits, options.sort):
        quoted = [c.sentence for c in answer.sentences if c.number == number]
        show_hit(index, number, hit, quoted)


def export_box(answer: Answer) -> None:
    """A format choice and a download button for the answer and its passages."""
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    fmt = left.selectbox("Export the answer and passages", FORMATS, key="export_format",
                         format_func=lambda f: FORMAT_LABELS.get(f, f))
    fmt = str(fmt or "markdown")
    right.download_button(
        "Download", data=export_answer(answer, fmt), file_name=f"answer{SUFFIXES[fmt]}",
        mime=MEDIA_TYPES[fmt], key="download", on_click="ignore", width="stretch",
    )


# -- the coverage of a question: timeline, outlet facets, saved searches ------------------------


def chart_text(text: str) -> str:
    """A label for the chart: one line, no control characters (Vega shows it as text)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:80]


def timeline_charts(cov: Coverage) -> tuple[alt.Chart, alt.Chart]:
    """Bars of stories per period and per outlet; clicking one selects it."""
    title = {"day": "Day", "week": "Week of", "month": "Month"}[cov.period]
    bars = [{"start": b.start, "label": b.label, "stories": b.stories} for b in cov.buckets]
    when = alt.selection_point(name="period", fields=["start"])
    periods = (
        alt.Chart(alt.Data(values=bars), height=240)  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            x=alt.X("label:O", title=title, sort=None,
                    axis=alt.Axis(labelAngle=-40 if len(bars) > 6 else 0)),
            y=alt.Y("stories:Q", title="Stories", axis=alt.Axis(tickMinStep=1)),
            opacity=alt.condition(when, alt.value(1.0), alt.value(0.35)),
            tooltip=[alt.Tooltip("label:N", title=title), alt.Tooltip("stories:Q")],
        )
        .add_params(when)
    )
    rows = [{"outlet": chart_text(o.outlet), "stories": o.stories} for o in cov.outlets[:15]]
    which = alt.selection_point(name="outlet", fields=["outlet"])
    outlets = (
        alt.Chart(alt.Data(values=rows), height=max(120, 28 * len(rows) + 50))  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            y=alt.Y("outlet:N", title=None, sort="-x"),
            x=alt.X("stories:Q", title="Stories", axis=alt.Axis(tickMinStep=1)),
            opacity=alt.condition(which, alt.value(1.0), alt.value(0.35)),
            tooltip=[alt.Tooltip("outlet:N", title="Outlet"), alt.Tooltip("stories:Q")],
        )
        .add_params(which)
    )
    return periods, outlets


def _chart_pick(event: object, name: str, field: str) -> str | None:
    """The value of `field` in the chart's selection `name`, if one is selected."""
    try:
        chosen = event.selection[name]  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if isinstance(chosen, list) and chosen and isinstance(chosen[0], dict):
        value = chosen[0].get(field)
        return str(value) if value is not None else None
    return None


def show_timeline(cov: Coverage) -> tuple[list[SearchHit] | None, str]:
    """The timeline above the passages; returns the stories picked (a bar, an outlet) and why."""
    st.subheader("Coverage over time")
    of = f"of the {cov.depth} best" if cov.total >= cov.depth else "matching"
    undated = f"; {plural(cov.undated, 'undated story')} counted apart" if cov.undated else ""
    st.caption(f"{plural(cov.total, 'story')} {of}, per {cov.period}, copies folded{undated}. "
               "Click a bar or an outlet to list its stories.")
    if not cov.total:
        st.info("No story matches this question closely enough to count.")
        return None, ""
    periods, outlets = timeline_charts(cov)
    left, right = st.columns([3, 2])
    with left:
        event = st.altair_chart(periods, on_select="rerun", key="period_chart",
                                width="stretch")
    with right:
        outlet_event = st.altair_chart(outlets, on_select="rerun", key="outlet_chart",
                                       width="stretch")
    labels = {b.label: b.start for b in cov.buckets if b.stories}  # nothing to show in a gap
    choices = list(labels) + ([UNDATED] if cov.undated else [])
    pill = st.pills("Show the stories of", choices, key="period_pick")
    start = _chart_pick(event, "period", "start")
    if pill:
        start = "" if pill == UNDATED else labels.get(str(pill))
    picked: list[SearchHit] | None = None
    why = []
    if start is not None:
        picked = cov.in_bucket(start)
        label = next((b.label for b in cov.buckets if b.start == start), start)
        why.append("undated" if start == "" else f"from {text_md(label)}")
    outlet = _chart_pick(outlet_event, "outlet", "outlet")
    if outlet:
        named = next((o.outlet for o in cov.outlets if chart_text(o.outlet) == outlet), outlet)
        mine = cov.from_outlet(named)
        picked = mine if picked is None else [h for h in picked if h in mine]
        why.append(f"in {text_md(named)}")
    return picked, " ".join(why)


def forget_picks_of_another_search(question: str, options: Options) -> None:
    """A new question or filter starts with nothing picked in the timeline."""
    # Plain values: each run defines Options anew, so its instances never compare equal.
    asked = (question, options.mode, tuple(options.outlets), options.since, options.until,
             options.literal)
    if st.session_state.get("asked") != asked:
        for key in ("period_pick", "period_chart", "outlet_chart"):
            st.session_state.pop(key, None)
        st.session_state["asked"] = asked


def pick_outlet(outlet: str) -> None:
    """A facet was clicked: filter the search to that outlet."""
    st.session_state["outlets"] = [outlet]


def outlet_facets(box: Box, facets: Coverage, stats: IndexStats) -> None:
    """Matching stories per outlet for this question and date range; a click filters to it."""
    if not facets.outlets:
        return
    box.markdown("**Outlets for this question**")
    known = {o.casefold(): o for o in stats.outlets}
    for i, count in enumerate(facets.outlets[:20]):
        name = known.get(count.outlet.casefold())
        if name is None:
            continue
        box.button(f"{text_md(chart_text(count.outlet))} · {count.stories}", key=f"facet_{i}",
                   on_click=pick_outlet, args=(name,), help=f"Only {text_md(chart_text(name))}")
    if facets.undated:
        box.caption(f"{plural(facets.undated, 'undated story')} among them")


def watch_filters(watch: Watch) -> str:
    """What narrows a saved search, as Markdown: two saves of one question differ here."""
    parts = [*watch.outlets, *(f"{name} {value}" for name, value in (
        ("since", watch.since), ("until", watch.until), ("language", watch.language)) if value)]
    if watch.mode != "hybrid":
        parts.append(f"{watch.mode} mode")
    if watch.literal:
        parts.append("as typed")
    return f" *({text_md(', '.join(parts))})*" if parts else ""


def watch_key(watch: Watch) -> str:
    """A saved search's identity across renumbering: what it asks and when it was saved."""
    return repr((watch.question, watch.mode, watch.outlets, watch.since, watch.until,
                 watch.language, watch.added_at, watch.literal))


def saved_searches(box: Box, index: CoverageIndex, question: str, options: Options) -> None:
    """Save the current search, list and remove saved ones, and show what is new to each."""
    with box.expander("Saved searches", expanded=bool(st.session_state.get("watch_reports"))):
        try:
            if question.strip() and st.button("Save this search", key="watch_add"):
                before = len(list_watches(CORPUS_DIR))
                watch = add_watch(CORPUS_DIR, question, mode=options.mode,
                                  outlets=options.outlets or None,
                                  since=options.since.isoformat() if options.since else None,
                                  until=options.until.isoformat() if options.until else None,
                                  index=index, literal=options.literal)
                if len(list_watches(CORPUS_DIR)) == before:
                    st.info(f"Already saved as search {watch.number}.")
                else:
                    st.success(f"Saved as search {watch.number}; new passages will show here.")
            watches = list_watches(CORPUS_DIR)
            keys: dict[str, int] = {}
            for watch in watches:
                # Two identical entries (a hand-edited file) would share a key: count them.
                key = watch_key(watch)
                keys[key] = keys.get(key, 0) + 1
                left, right = st.columns([4, 1], vertical_alignment="center")
                left.markdown(f"{watch.number}. {text_md(watch.question)}{watch_filters(watch)}")
                # Keyed and removed by the search itself, not its number: another window's
                # removal renumbers the list under this page.
                if right.button("✕", key=f"watch_remove_{key}#{keys[key]}",
                                help="Forget this saved search"):
                    remove_watch(CORPUS_DIR, watch)
                    st.session_state.pop("watch_reports", None)
                    st.rerun()
            if not watches:
                st.caption("None yet: ask a question, then save it to hear what is new.")
            elif st.button("Check for new passages", key="watch_run"):
                st.session_state["watch_reports"] = run_watches(index, CORPUS_DIR)
        except CoverageSearchError as exc:
            st.error(text_md(str(exc)))
            return
        for report in st.session_state.get("watch_reports") or ():
            head = f"**{report.watch.number}. {text_md(report.watch.question)}**"
            if report.error:
                st.warning(f"{head}: {text_md(report.error)}")
            elif not report.new:
                st.markdown(f"{head}: nothing new")
            else:
                lines = [f"{head}: {plural(len(report.new), 'new passage')}"]
                lines += [
                    "- " + link_md(text_md(h.title), h.link) + " · "
                    + text_md(h.outlet or "unknown outlet") + " · "
                    + text_md((h.published or "undated")[:10])
                    for h in report.new
                ]
                st.markdown("\n".join(lines))


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
        right.form_submit_button("Ask", type="primary", key="ask", width="stretch")
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
    build, again = st.columns([1, 1])
    if build.button("Build the index", type="primary", key="build") and run_build(st.container()):
        st.rerun()
    if again.button("Check again", key="recheck", help="The index was fixed or built elsewhere"):
        st.rerun()  # nothing is cached for an index that failed to open


def main() -> None:
    st.set_page_config(page_title="Coverage search", page_icon="🔎", layout="centered")
    st.title("Coverage search")
    st.caption("Ask the news coverage of the AI industry. Answers quote the sources verbatim.")
    # Sidebar slots in display order; the upload is handled first so a new file is searchable
    # in this very run.
    settings_box, facet_box, watch_box, facts_box, upload_box = (
        st.sidebar.container() for _ in range(5)
    )
    add_coverage(upload_box)
    if notice := st.session_state.pop("build_notice", None):
        st.warning(notice)
    try:
        index = open_index(str(INDEX_DIR), live_build())
        stats = index.stats()
    except CoverageSearchError as exc:
        forget_if_damaged(exc)
        no_index(exc)
        st.stop()

    options = search_options(settings_box, stats)
    index_facts(facts_box, stats)
    question = question_box()
    saved_searches(watch_box, index, question, options)
    if not question.strip():
        st.info("Type a question above, or pick one of the examples.")
        st.stop()
    forget_picks_of_another_search(question, options)
    try:
        aliases = not options.literal
        answer = index.answer(
            question, k=options.k, mode=options.mode, outlets=options.outlets or None,
            since=options.since, until=options.until, recency=options.recency, aliases=aliases,
        )
        cov = index.coverage(
            question, mode=options.mode, outlets=options.outlets or None,
            since=options.since, until=options.until, aliases=aliases,
        )
        facets = cov if not options.outlets else index.coverage(
            question, mode=options.mode, since=options.since, until=options.until,
            aliases=aliases,
        )
    except QueryError as exc:
        st.warning(text_md(str(exc)))
        st.stop()
    except CoverageSearchError as exc:
        forget_if_damaged(exc)
        st.error(text_md(str(exc)))
        st.stop()
    if len(question.strip()) > MAX_QUERY_CHARS:  # the search cuts it: say so
        st.caption(f"Only the first {MAX_QUERY_CHARS:,} characters of the question are searched.")
    outlet_facets(facet_box, facets, stats)
    picked, why = show_timeline(cov) if answer.hits else (None, "")
    show_answer(index, answer, options, picked, why)

main()
