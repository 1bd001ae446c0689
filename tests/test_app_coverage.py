"""The app's coverage views in AppTest: timeline, facets, sort, saved searches, export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from conftest import COVERAGE_EXTRA, write_coverage_corpus, write_doc
from coverage_search import list_watches
from test_app import ask, card_titles, markdown, start_app

__all__ = ["start_app"]  # the fixture, shared with test_app.py

QUESTION = "Why did Dario Amodei leave OpenAI?"


@pytest.fixture()
def coverage_app(tmp_path: Path, build_index, start_app) -> AppTest:  # type: ignore[no-untyped-def]
    corpus = write_coverage_corpus(tmp_path / "corpus")
    (corpus / "techcrunch-split.md").unlink()  # the saved-searches test adds it as new coverage
    at = start_app(corpus, build_index(corpus))
    return ask(at, QUESTION)


def chart_rows(at: AppTest, number: int) -> list[dict[str, object]]:
    """The data rows of the page's chart `number` (0: periods, 1: outlets)."""
    chart = at.get("vega_lite_chart")[number].proto
    table = pa.ipc.open_stream(io.BytesIO(chart.data.data)).read_all()
    return [
        {k: v for k, v in row.items() if k in ("label", "outlet", "stories")}
        for row in table.to_pylist()
    ]


def test_the_timeline_sits_above_the_passages_and_counts_the_stories(
    coverage_app: AppTest,
) -> None:
    at = coverage_app
    assert [s.value for s in at.subheader] == ["Coverage over time", "Answer", "Passages"]
    assert chart_rows(at, 0) == [
        {"label": "2026-06-16", "stories": 1},
        {"label": "2026-06-17", "stories": 0},  # the gap is a bar of its own
        {"label": "2026-06-18", "stories": 1},
    ]
    assert {r["outlet"]: r["stories"] for r in chart_rows(at, 1)} == {
        "Axios": 1,
        "Bloomberg": 1,
        "El País": 1,
        "Fortune": 1,
    }
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["params"][0]["name"] == "period"  # a click selects a bar
    caption = next(c.value for c in at.caption if "counted apart" in c.value)
    assert caption.startswith("3 stories matching, per day, copies folded; 1 undated story")


def test_picking_a_period_or_undated_lists_exactly_those_stories(coverage_app: AppTest) -> None:
    at = coverage_app
    assert at.pills(key="period_pick").options == ["2026-06-16", "2026-06-18", "Undated"]
    listed = [c.value for c in at.caption if " · relevance " in c.value]
    at.pills(key="period_pick").set_value("Undated").run()
    assert card_titles(at) == ["[1] Amodei interview"]  # numbered as in the answer above
    # ...and scored as listed there (the timeline ranks stories with a prior of its own).
    assert [c.value for c in at.caption if " · relevance " in c.value] == listed[:1]
    assert "1 story undated" in markdown(at)
    at.pills(key="period_pick").set_value("2026-06-18").run()
    assert [t.split("] ")[-1] for t in card_titles(at)] == ["Anthropic y la seguridad"]
    at.pills(key="period_pick").set_value(None).run()
    assert len(card_titles(at)) == 5  # the best passages again
    at.pills(key="period_pick").set_value("Undated").run()
    ask(at, "Did Dario Amodei leave OpenAI?")  # another question: nothing picked any more
    assert at.pills(key="period_pick").value is None and len(card_titles(at)) == 5


def test_clicking_an_outlet_facet_filters_the_search(coverage_app: AppTest) -> None:
    at = coverage_app
    facets = {b.label: b.key for b in at.button if (b.key or "").startswith("facet_")}
    assert set(facets) == {"Axios · 1", "Bloomberg · 1", "El País · 1", "Fortune · 1"}
    at.button(key=facets["El País · 1"]).click().run()
    assert at.multiselect(key="outlets").value == ["El País"]
    assert all("Anthropic y la seguridad" in t for t in card_titles(at))
    # The facets still count every outlet for the question (not only the chosen one).
    assert len([b for b in at.button if (b.key or "").startswith("facet_")]) == 4


def test_sort_newest_first_keeps_each_card_number(coverage_app: AppTest) -> None:
    at = coverage_app
    before = card_titles(at)
    at.radio(key="sort").set_value("date").run()
    after = card_titles(at)
    assert sorted(after) == sorted(before) and after != before
    dates = [c.value.split(" · ")[1] for c in at.caption if " · relevance " in c.value]
    dated = [d for d in dates if d != "undated"]
    assert dated == sorted(dated, reverse=True) and dates[-1] == "undated"
    at.checkbox(key="recency").check().run()
    assert not at.exception and card_titles(at)


def test_saved_searches_panel_saves_reports_new_hits_and_removes(
    coverage_app: AppTest,
    tmp_path: Path,
    build_index,  # type: ignore[no-untyped-def]
) -> None:
    at = coverage_app
    corpus = tmp_path / "corpus"
    at.button(key="watch_add").click().run()
    assert [w.question for w in list_watches(corpus)] == [QUESTION]
    assert any("Saved as search 1" in s.value for s in at.success)

    body, meta = COVERAGE_EXTRA["techcrunch-split.md"]
    write_doc(corpus, "techcrunch-split.md", body, **meta)
    build_index(corpus, tmp_path / "index")
    at.run()
    at.button(key="watch_run").click().run()
    panel = markdown(at)
    assert f"**1. {QUESTION}**: 1 new passage" in panel
    assert "[Amodei explains the OpenAI split](https://techcrunch.example/amodei-split" in panel
    at.button(key="watch_run").click().run()
    assert "nothing new" in markdown(at)
    (remove,) = [b for b in at.button if b.key.startswith("watch_remove_")]
    remove.click().run()
    assert list_watches(corpus) == [] and not at.exception


def test_a_search_saved_with_the_words_as_typed_stays_as_typed(
    coverage_app: AppTest, tmp_path: Path
) -> None:
    at = coverage_app
    at.checkbox(key="literal").check().run()
    at.button(key="watch_add").click().run()
    (watch,) = list_watches(tmp_path / "corpus")
    assert watch.question == QUESTION and watch.literal
    assert f"1. {QUESTION} *(as typed)*" in markdown(at) and not at.exception


def test_removing_a_saved_search_removes_that_one_when_another_window_renumbered_them(
    coverage_app: AppTest, tmp_path: Path
) -> None:
    """The list on this page is stale once another window removes search 1: the ✕ beside
    "alpha" (number 2 here) must remove alpha, not what is number 2 by then."""
    from coverage_search import add_watch, remove_watch

    at = coverage_app
    corpus = tmp_path / "corpus"
    for question in ("delta question", "alpha question", "bravo question"):
        add_watch(corpus, question)
    at.run()
    buttons = {b.key: b for b in at.button if b.key.startswith("watch_remove_")}
    (alpha,) = [b for key, b in buttons.items() if "alpha question" in key]
    remove_watch(corpus, 1)  # the other window
    alpha.click().run()
    assert [w.question for w in list_watches(corpus)] == ["bravo question"]
    assert not at.exception


def test_the_download_follows_the_chosen_format(coverage_app: AppTest) -> None:
    at = coverage_app
    assert at.selectbox(key="export_format").options == ["Markdown", "CSV", "RIS (cited articles)"]
    urls = [at.get("download_button")[0].proto.url]
    for fmt in ("csv", "ris"):
        at.selectbox(key="export_format").set_value(fmt).run()
        assert not at.exception
        urls.append(at.get("download_button")[0].proto.url)
    # A new file for each format (served by type: .md, .csv, and RIS's own media type).
    assert urls[0].endswith(".md") and urls[1].endswith(".csv") and len(set(urls)) == 3


def test_saved_searches_show_their_filters(coverage_app: AppTest, tmp_path: Path) -> None:
    """Two saves of one question differ only in their filters: the panel shows them."""
    from coverage_search import add_watch

    add_watch(tmp_path / "corpus", "Anthropic IPO")
    add_watch(tmp_path / "corpus", "Anthropic IPO", since="2026-01-01", outlets=["Axios"])
    coverage_app.run()
    lines = [m.value for m in coverage_app.markdown if "Anthropic IPO" in m.value]
    assert lines == ["1. Anthropic IPO", "2. Anthropic IPO *(Axios, since 2026&#45;01&#45;01)*"]


def test_a_date_past_the_coverage_filters_rather_than_being_dropped(
    coverage_app: AppTest,
) -> None:
    """The date boxes took only the coverage's own span; a later date typed in was dropped
    by the browser with a red note, and the search ran unfiltered."""
    import html
    from datetime import date

    box = coverage_app.date_input(key="since")
    assert box.min <= date(1900, 1, 1) and box.max >= date(2100, 1, 1)
    assert "The coverage runs from" in (box.help or "")
    box.set_value(date(2027, 1, 1)).run()
    shown = [html.unescape(w.value) for w in coverage_app.warning]
    assert any("Relax the date range (2027-01-01 to …)" in w for w in shown), shown


def test_two_identical_saved_searches_in_the_file_do_not_break_the_panel(
    coverage_app: AppTest, tmp_path: Path
) -> None:
    """A hand-edited .watches.json with one search twice gave two ✕ buttons one key."""
    import json as _json

    from coverage_search.watch.store import STATE_FILE

    state = {"version": 1, "watches": [{"question": "dup q"}, {"question": "dup q"}]}
    (tmp_path / "corpus" / STATE_FILE).write_text(_json.dumps(state))
    coverage_app.run()
    assert not coverage_app.exception
    removes = [b for b in coverage_app.button if b.key.startswith("watch_remove_")]
    assert len(removes) == 2
    removes[1].click().run()
    assert not coverage_app.exception and len(list_watches(tmp_path / "corpus")) == 1
