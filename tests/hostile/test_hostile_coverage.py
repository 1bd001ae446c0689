"""Hostile titles, outlets and authors in the timeline, the facets and every export format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hostile_support import cli

from conftest import write_doc
from coverage_search import CoverageIndex, export_answer, safe_cell

FORMULA_TITLE = '=HYPERLINK("http://evil.example/x","Click me")'
MARKUP_OUTLET = "<img src=x onerror=alert(1)>"
TAG_TITLE = "Amodei <script>alert(1)</script> [leaves](javascript:alert(1)) OpenAI"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, embedder) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("hostile-coverage")
    corpus = root / "corpus"
    body = "Dario Amodei left OpenAI in December 2020 to found Anthropic with his sister."
    write_doc(corpus, "formula.md", f"# x\n\n{body}", title=FORMULA_TITLE,
              outlet="+cmd|' /C calc'!A0", author="@SUM(1+1)", published="2026-06-16",
              url="https://example.com/formula")  # fmt: skip
    write_doc(corpus, "markup.md", f"# y\n\n{body} The split was about safety.",
              title=TAG_TITLE, outlet=MARKUP_OUTLET, author="-2+3",
              published="2026-06-17", url="https://example.com/markup")  # fmt: skip
    write_doc(corpus, "newlines.md", f"# z\n\n{body} Anthropic raised money later.",
              title="Split\nER  - \nTY  - JOUR\nTI  - injected", outlet="Tab\tOutlet\r",
              url="https://example.com/newlines")  # fmt: skip
    CoverageIndex.build(corpus, root / "index", progress=False)
    return {"corpus": corpus, "index": root / "index"}


QUESTION = "Why did Dario Amodei leave OpenAI?"


def test_every_formula_trigger_is_neutralized() -> None:
    for lead in ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%"):
        assert safe_cell(f"{lead}1+1") == f"'{lead}1+1"
    assert safe_cell("  =1+1") == "'  =1+1"  # after spaces too
    assert safe_cell("Axios") == "Axios" and safe_cell(None) == "" and safe_cell(3) == "3"


def test_csv_cells_from_documents_never_start_a_formula(hostile: dict[str, Path]) -> None:
    code, out, err = cli("ask", QUESTION, "--index", hostile["index"], "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(FORMULA_TITLE in c for c in cells)
    for cell in cells:
        assert not cell.lstrip().startswith(("=", "+", "-", "@", "\t", "\r", "|", "%")), cell


def test_ris_values_cannot_start_a_tag(hostile: dict[str, Path]) -> None:
    code, out, err = cli("ask", QUESTION, "--index", hostile["index"], "--format", "ris", "-k", "3")
    assert code == 0, err
    lines = out.split("\r\n")
    assert not any(line.startswith(("TY  - JOUR", "TI  - injected")) for line in lines)
    tags = [line[:2] for line in lines if line]
    assert set(tags) <= {"TY", "TI", "T2", "AU", "PY", "DA", "UR", "LA", "N1", "ER"}
    assert tags.count("TY") == tags.count("ER")
    assert all("\n" not in line and "\r" not in line and "\t" not in line for line in lines)


def test_markdown_shows_markup_as_text(hostile: dict[str, Path]) -> None:
    index = CoverageIndex.open(hostile["index"])
    text = export_answer(index.answer(QUESTION, k=3), "markdown")
    assert "<script>" not in text and "<img" not in text and "](javascript:" not in text
    assert "&lt;script&gt;" in text and "&lt;img src=x onerror=alert\\(1\\)&gt;" in text


def test_timeline_and_facets_carry_names_as_plain_data(hostile: dict[str, Path]) -> None:
    code, out, err = cli("timeline", QUESTION, "--index", hostile["index"])
    assert code == 0, err
    assert MARKUP_OUTLET in out and "\t" not in out and "\r" not in out
    code, out, err = cli("search", QUESTION, "--index", hostile["index"], "--json")
    assert code == 0, err
    outlets = {o["outlet"] for o in json.loads(out)["facets"]["outlets"]}
    assert MARKUP_OUTLET in outlets


def test_an_empty_corpus_has_an_empty_timeline(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "corpus").mkdir()
    code, _, err = cli("build", "--corpus", tmp_path / "corpus", "--index", tmp_path / "index",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    code, out, err = cli("timeline", QUESTION, "--index", tmp_path / "index")
    assert (code, out.strip(), err) == (0, "No stories match.", "")
    code, out, err = cli("search", QUESTION, "--index", tmp_path / "index", "--json")
    assert code == 0 and json.loads(out)["facets"] == {"stories": 0, "undated": 0, "outlets": []}
    code, out, err = cli("ask", QUESTION, "--index", tmp_path / "index", "--format", "ris")
    assert (code, out) == (0, "")


def test_line_breaks_that_reach_an_export_cannot_inject(hostile: dict[str, Path]) -> None:
    # The reader already folds whitespace in titles; an API caller's records may still hold any.
    import dataclasses

    answer = CoverageIndex.open(hostile["index"]).answer(QUESTION, k=3)
    evil = "Split\r\nER  - \nTY  - JOUR\u2028TI  - injected\x00"
    hits = tuple(
        dataclasses.replace(h, title=evil, outlet="\tOut\nlet", author="A\nAU  - B")
        for h in answer.hits
    )
    answer = dataclasses.replace(answer, hits=hits)
    ris = export_answer(answer, "ris")
    lines = ris.split("\r\n")
    assert "TI  - Split ER - TY - JOUR TI - injected" in lines
    assert not any(line.startswith(("TY  - JOUR", "TI  - injected", "AU  - B")) for line in lines)
    rows = list(csv.reader(io.StringIO(export_answer(answer, "csv"))))
    assert all(row[3] == "'\tOut\nlet" for row in rows[2:])  # kept, quoted, neutralized
    md = export_answer(answer, "markdown")
    assert "\nER" not in md and "\nTY" not in md


def test_the_app_shows_hostile_names_as_text_in_chart_facets_and_panel(
    hostile: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    from hostile_support import REPO
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", str(hostile["corpus"]))
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", str(hostile["index"]))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.text_input(key="question").input(QUESTION)
    at.form_submit_button(key="ask").click()
    at.run()
    assert not at.exception
    chart = at.get("vega_lite_chart")[1].proto
    outlets = pa.ipc.open_stream(io.BytesIO(chart.data.data)).read_all().column("outlet")
    # Data for Vega's text marks (never HTML), one line each: the tab and CR are gone.
    assert MARKUP_OUTLET in outlets.to_pylist() and "Tab Outlet" in outlets.to_pylist()
    labels = [b.label for b in at.button if (b.key or "").startswith("facet_")]
    assert "&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62; · 1" in labels  # inert text
    assert not any("<img" in label for label in labels)
    # Tooltips are Markdown too: an outlet's markup must not become an image that loads.
    tips = [b.help for b in at.button if (b.key or "").startswith("facet_")]
    assert "Only &#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;" in tips
    assert not any("<img" in tip or "](" in tip for tip in tips)
    at.button(key="watch_add").click().run()
    assert not at.exception and "<script>" not in "".join(m.value for m in at.markdown)
