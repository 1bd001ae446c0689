"""The Streamlit app driven in-process with AppTest, on tiny real indexes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CAFETERIA, REPO, SMALL_CORPUS, write_doc
from coverage_search import CoverageIndex

APP = REPO / "app.py"
QUESTION = "Why did Dario Amodei leave OpenAI?"


@pytest.fixture()
def start_app(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, Path], AppTest]:
    """Run app.py against a corpus and index folder; returns the AppTest after its first run."""

    def _start(corpus: Path, index: Path) -> AppTest:
        monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", str(corpus))
        monkeypatch.setenv("COVERAGE_SEARCH_INDEX", str(index))
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        return at

    return _start


def ask(at: AppTest, question: str) -> AppTest:
    at.text_input(key="question").input(question)
    at.form_submit_button(key="ask").click()
    at.run()
    assert not at.exception, at.exception
    return at


def markdown(at: AppTest) -> str:
    """Every Markdown source the page rendered (main area and sidebar), captions included."""
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def card_titles(at: AppTest) -> list[str]:
    """The passage cards' headings as a reader sees them: "[1] Title"."""
    return [
        html.unescape(m.value.strip("*"))
        for m in at.markdown
        if re.match(r"\*\*&#91;\d+&#93; ", m.value)
    ]


def test_asking_shows_a_cited_answer_and_passage_cards(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = start_app(small_corpus, build_index(small_corpus))
    assert "Type a question" in at.info[0].value  # empty question: a hint, nothing else
    ask(at, QUESTION)

    assert [s.value for s in at.subheader] == ["Coverage over time", "Answer", "Passages"]
    page = markdown(at)
    # [n] markers link to the cited sentence in the source (text fragment).
    assert re.search(r"\[&#91;1&#93;\]\(https://news\.example\.org/amodei#:~:text=", page)
    assert any("Why Dario Amodei left OpenAI" in t for t in card_titles(at))
    assert ":orange-background[" in page  # quoted sentences highlighted in their card
    assert "[Open source ↗](https://news.example.org/amodei#:~:text=" in page
    assert at.expander and at.expander[0].label == "Show surrounding text"


def test_picking_an_example_question_asks_it(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = start_app(small_corpus, build_index(small_corpus))
    at.pills(key="example").set_value("What did Anthropic say about tokenized shares?").run()

    assert at.text_input(key="question").value == "What did Anthropic say about tokenized shares?"
    assert "Anthropic warns on tokenized shares" in card_titles(at)[0]


def test_outlet_filter_restricts_the_passages(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = start_app(small_corpus, build_index(small_corpus))
    assert set(at.multiselect(key="outlets").options) == {
        "Axios",
        "Crypto Briefing",
        "El País",
        "Food Weekly",
    }
    at.multiselect(key="outlets").set_value(["El País"])
    ask(at, QUESTION)

    titles = card_titles(at)
    assert titles and all("Anthropic y la seguridad" in t for t in titles)


def test_no_results_names_the_filters_to_relax(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import date

    at = start_app(small_corpus, build_index(small_corpus))
    at.multiselect(key="outlets").set_value(["Food Weekly"])
    at.date_input(key="since").set_value(date(2026, 1, 1))
    ask(at, QUESTION)

    assert not card_titles(at)
    warning = html.unescape(at.warning[0].value)  # document text is entity-escaped
    assert "outlet filter (Food Weekly)" in warning and "date range" in warning


def test_without_an_index_a_button_builds_it(
    small_corpus: Path,
    tmp_path: Path,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = start_app(small_corpus, tmp_path / "no-index-yet")
    assert "no index" in at.info[0].value
    assert not at.text_input

    at.button(key="build").click().run()
    assert not at.exception and not at.error
    assert at.text_input(key="question")
    ask(at, QUESTION)
    assert card_titles(at)


def test_a_build_names_a_file_whose_date_it_could_not_read(
    small_corpus: Path,
    tmp_path: Path,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    write_doc(small_corpus, "undated.md", "A note on chips.", title="Chips", published="soon")
    at = start_app(small_corpus, tmp_path / "no-index-yet")
    at.button(key="build").click().run()
    assert not at.exception and not at.error
    (warning,) = [html.unescape(w.value) for w in at.warning]
    assert warning.startswith("Indexed, with a problem: undated.md (published 'soon' is not a date")
    assert at.text_input(key="question")


def test_without_an_index_check_again_finds_one_built_elsewhere(
    small_corpus: Path,
    tmp_path: Path,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    from coverage_search import CoverageIndex

    at = start_app(small_corpus, tmp_path / "built-later")
    assert "no index" in at.info[0].value
    CoverageIndex.build(small_corpus, tmp_path / "built-later", progress=False)  # e.g. by cron
    at.button(key="recheck").click().run()
    assert not at.exception and not at.error
    assert at.text_input(key="question")


def test_a_question_past_the_limit_says_it_was_cut(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = ask(start_app(small_corpus, build_index(small_corpus)), QUESTION + " x" * 3000)
    assert any("first 4,000 characters" in c.value for c in at.caption)
    assert not any("first 4,000" in c.value for c in ask(at, QUESTION).caption)


def test_uploading_a_file_makes_it_searchable_at_once(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = start_app(small_corpus, build_index(small_corpus))
    body = (
        "---\ntitle: Fortune on the Claude revenue run-rate\noutlet: Fortune\n"
        "url: https://fortune.com/claude-revenue\npublished: 2026-06-20\n---\n\n"
        "Anthropic's annualized revenue passed five billion dollars, driven by Claude Code "
        "subscriptions from software developers.\n"
    )
    upload = ("../../Claude revenue.md", body.encode(), "text/markdown")
    at.file_uploader(key="upload_file").set_value(upload)
    at.form_submit_button(key="add").click().run()

    assert not at.exception and not at.error
    assert "Added Claude-revenue.md" in html.unescape(at.success[0].value)
    assert (small_corpus / "Claude-revenue.md").read_text(encoding="utf-8") == body
    ask(at, "How much revenue does Claude Code bring Anthropic?")
    assert "Fortune on the Claude revenue run-rate" in card_titles(at)[0]


def test_an_app_started_with_another_corpus_does_not_upload_into_it(
    small_corpus: Path,
    tmp_path: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    """Started from another folder, with COVERAGE_SEARCH_INDEX set and the default corpus,
    the first upload made a new corpus folder and replaced the index with its one file."""
    index = build_index(small_corpus)
    elsewhere = tmp_path / "elsewhere-corpus"
    at = start_app(elsewhere, index)
    upload = (
        "note.md",
        b"# Note\n\nA note about chips and export rules this week.\n",
        "text/markdown",
    )
    at.file_uploader(key="upload_file").set_value(upload)
    at.form_submit_button(key="add").click().run()
    assert not at.exception
    assert "was built from" in html.unescape(at.error[0].value)
    assert not elsewhere.exists()
    assert CoverageIndex.open(index).stats().documents == 4


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("report.pdf", b"this is not a pdf at all", "is not a PDF"),
        ("broken.pdf", b"%PDF-1.7\n garbage that no reader can parse", "cannot be read"),
        ("blob.txt", b"\x00\x01\x02binary\x00" * 50, "cannot be read"),
        ("empty.md", b"   \n", "is empty"),
    ],
)
def test_a_bad_upload_is_one_clear_error_and_changes_nothing(
    small_corpus: Path,
    build_index,
    start_app,
    name: str,
    data: bytes,
    says: str,  # type: ignore[no-untyped-def]
) -> None:
    index = build_index(small_corpus)
    before_corpus = sorted(p.name for p in small_corpus.iterdir())
    before_index = (index / "CURRENT").read_text()
    at = start_app(small_corpus, index)
    at.file_uploader(key="upload_file").set_value((name, data, "application/octet-stream"))
    at.form_submit_button(key="add").click().run()

    assert not at.exception
    assert len(at.error) == 1 and says in at.error[0].value
    assert not at.success
    assert sorted(p.name for p in small_corpus.iterdir()) == before_corpus
    assert (index / "CURRENT").read_text() == before_index


def test_hostile_document_is_rendered_as_text(
    tmp_path: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    corpus = tmp_path / "corpus"
    body, meta = SMALL_CORPUS["anthropic-tokens.md"]
    write_doc(corpus, "anthropic-tokens.md", body, **meta)
    write_doc(
        corpus,
        "evil.txt",
        "<script>alert('x')</script> Tokenized shares of Anthropic were sold on a "
        "<img src=x onerror=alert(2)> shady exchange. [click](javascript:alert(3)) "
        "Anthropic said the tokenized shares are void. :red[fake] $x^2$ **bold**\n",
        title="<script>alert(1)</script> Tokenized shares scam",
        url="javascript:alert(1)",
        outlet="<b>Evil</b>",
        published="2026-06-01",
    )
    at = start_app(corpus, build_index(corpus))
    ask(at, "Were tokenized shares of Anthropic sold on a shady exchange?")

    page = markdown(at)
    assert "[1] <script>alert(1)</script> Tokenized shares scam" in card_titles(at)
    assert "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;" in page
    assert "&#60;script&#62;alert&#40;&#39;x&#39;&#41;&#60;/script&#62;" in page
    for raw in ("<script", "<img", "<b>", "javascript:", ":red[", "$x", "**bold**"):
        assert raw not in page, raw
    links = re.findall(r"\]\(([^)]*)\)", page)
    assert links and all(link.startswith(("https://", "http://")) for link in links)


def test_syndicated_copies_show_as_also_in_and_context_expands(
    tmp_path: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    corpus = tmp_path / "corpus"
    story = (
        "Anthropic told investors that tokenized pre-IPO shares sold on crypto exchanges are "
        "void under its transfer restrictions. The company said no transfer of its stock was "
        "ever approved for any token issuer, and warned buyers that such tokens convey no "
        "ownership. Traders on Solana had bought synthetic exposure to the startup's valuation "
        "for weeks before the warning, and prices of the tokens fell sharply afterwards.\n"
    )
    write_doc(
        corpus,
        "wire.md",
        "# Anthropic voids tokens\n\n" + story,
        title="Anthropic voids tokens",
        outlet="Wire Service",
        url="https://wire.example.com/tokens",
        published="2026-06-10",
    )
    write_doc(
        corpus,
        "copy.md",
        "# Tokens void, Anthropic says\n\n" + story,
        title="Tokens void, Anthropic says",
        outlet="Daily Copy",
        url="https://daily.example.net/anthropic-tokens",
        published="2026-06-11",
    )
    at = start_app(corpus, build_index(corpus))
    ask(at, "Are tokenized Anthropic shares void?")

    assert len(card_titles(at)) == 1  # one story, shown once
    page = markdown(at)
    also = next(m.value for m in at.markdown if m.value.startswith("Also in: "))
    assert re.search(r"\[(Wire Service|Daily Copy)\]\(https://(wire|daily)\.example", also)
    context = html.unescape(" ".join(m.value for m in at.expander[0].markdown))
    # The heading before the passage, no "…" (the document starts there), the passage in bold.
    assert " ".join(context.split()).startswith("Anthropic voids tokens **Anthropic told investors")
    assert "Traders on Solana" in html.unescape(page)


def test_a_build_made_elsewhere_is_picked_up_on_the_next_run(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    index = build_index(small_corpus)
    at = start_app(small_corpus, index)
    ask(at, "Who bought the Tesla Roadster?")
    assert not any("Roadster" in t for t in card_titles(at))

    write_doc(
        small_corpus,
        "roadster.md",
        "The Tesla Roadster was bought by a collector.",
        title="Roadster sold",
        outlet="Auto News",
        published="2026-03-01",
    )
    build_index(small_corpus, index)  # as `coverage-search build` or a cron `update` would
    at.run()
    assert "[1] Roadster sold" in card_titles(at)


def test_searching_the_words_as_typed_is_a_sidebar_switch_off_by_default(
    tmp_path: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    corpus = tmp_path / "corpus"
    for name, (body, meta) in {**SMALL_CORPUS, **CAFETERIA}.items():
        write_doc(corpus, name, body, **meta)
    at = start_app(corpus, build_index(corpus))
    assert at.checkbox(key="literal").value is False
    at.selectbox(key="mode").set_value("keyword")
    ask(at, "the ChatGPT maker")
    assert "Searched as: OpenAI" in markdown(at)  # named by default, as before
    assert not any("Cafeteria news" in t for t in card_titles(at))

    at.checkbox(key="literal").check().run()
    assert not at.exception, at.exception
    assert card_titles(at) == ["[1] Cafeteria news"]  # the typed words' one story
    assert "Cafeteria news" in markdown(at)


def test_searching_the_words_as_typed_does_not_say_searched_as(
    small_corpus: Path,
    build_index,
    start_app,  # type: ignore[no-untyped-def]
) -> None:
    at = start_app(small_corpus, build_index(small_corpus))
    at.checkbox(key="literal").check()
    ask(at, "the ChatGPT maker")
    assert "Searched as" not in markdown(at)
