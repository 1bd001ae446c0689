"""The command line driven in-process: output, --json, messages and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coverage_search.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def built(small_corpus: Path, embedder, capsys: pytest.CaptureFixture[str]) -> Path:
    index = small_corpus.parent / "index"
    code, out, _ = run(
        capsys, "build", "--corpus", str(small_corpus), "--index", str(index), "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {
        "documents",
        "passages",
        "embedded",
        "reused",
        "removed",
        "skipped",
        "seconds",
    }
    assert data["documents"] == 4 and data["embedded"] + data["reused"] == data["passages"]
    return index


def test_build_human_output_then_up_to_date(
    small_corpus: Path, built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "build", "--corpus", str(small_corpus), "--index", str(built), "--quiet"
    )
    assert code == 0 and out.startswith("Index is up to date: 4 documents")


def test_search_json_has_hits_with_links(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "search",
        "tokenized pre-IPO shares",
        "--index",
        str(built),
        "--outlet",
        "Crypto Briefing",
        "--since",
        "2026-01-01",
        "-k",
        "3",
        "--json",
    )
    hits = json.loads(out)["hits"]
    assert code == 0 and hits and all(h["outlet"] == "Crypto Briefing" for h in hits)
    assert hits[0]["link"].startswith("https://example.com/tokens#:~:text=")


def test_search_human_output_explains(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "Dario Amodei OpenAI", "--index", str(built), "--explain")
    assert code == 0 and out.startswith("1. ") and "found by: semantic #" in out


def test_search_no_results_suggests_relaxing_filters(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "search", "Anthropic", "--index", str(built), "--outlet", "Nobody")
    assert code == 0 and "No passages match. Try fewer filters." in out


def test_stats_text_and_json(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--index", str(built))
    assert code == 0 and "documents  4" in out and "all-MiniLM-L6-v2" in out
    code, out, _ = run(capsys, "stats", "--index", str(built), "--json")
    assert json.loads(out)["outlets"] == ["Axios", "Crypto Briefing", "El País", "Food Weekly"]


def test_missing_index_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "search", "anything", "--index", str(tmp_path / "index"))
    assert code == 1 and out == ""
    assert (
        err.strip()
        == f"coverage-search: No index at {tmp_path / 'index'}. Run: coverage-search build"
    )


def test_missing_corpus_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i")
    )
    assert code == 1 and err.count("\n") == 1 and "corpus" in err.lower()


@pytest.mark.parametrize(
    "argv", [["search", "  "], ["search", "x", "--since", "June"], ["search", "x", "-k", "0"]]
)
def test_bad_query_options_exit_2(
    built: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv, "--index", str(built))
    assert code == 2 and err.startswith("coverage-search: ") and err.count("\n") == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_every_command_has_help_with_an_example() -> None:
    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices
    assert {"build", "search", "stats"} <= set(verbs)
    for name, sub in verbs.items():
        assert "example" in (sub.epilog or ""), name


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    verbs = build_parser()._subparsers._group_actions[0].choices
    for name in verbs:
        assert f"coverage-search {name}" in readme, name


def test_module_entry_point_and_fast_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "coverage_search", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "coverage-search" in out.stdout and "build" in out.stdout


def test_timeline_prints_a_compact_table_and_json(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "Why did Dario Amodei leave OpenAI?"
    code, out, _ = run(capsys, "timeline", question, "--index", str(built))
    assert code == 0
    assert out.splitlines()[:5] == [
        "2 stories matching, by day:",
        "  day         stories",
        "  2026-06-16        1  " + "█" * 40,
        "  2026-06-17        0",  # a day without stories is shown: the bars are days apart
        "  2026-06-18        1  " + "█" * 40,
    ]
    assert "  Axios         1" in out and "  El País       1" in out
    code, out, _ = run(capsys, "timeline", question, "--index", str(built), "--by", "month",
                       "--json")  # fmt: skip
    data = json.loads(out)
    assert (data["period"], data["stories"], data["undated"]) == ("month", 2, 0)
    assert data["buckets"] == [{"start": "2026-06-01", "label": "2026-06", "stories": 2}]
    code, out, _ = run(capsys, "timeline", question, "--index", str(built), "--outlet", "Nobody")
    assert code == 0 and out == "No stories match. Try fewer filters.\n"
    code, _, err = run(capsys, "timeline", question, "--index", str(built), "--depth", "0")
    assert code == 2 and err == "coverage-search: depth must be a whole number from 1 to 2,000.\n"


def test_search_json_carries_outlet_facets_and_sorts_by_date(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "search", "Dario Amodei OpenAI", "--index", str(built), "--json",
                       "--outlet", "Axios")  # fmt: skip
    data = json.loads(out)
    assert code == 0 and all(h["outlet"] == "Axios" for h in data["hits"])
    # Facets ignore the outlet filter (every outlet one could pick is counted).
    assert {o["outlet"]: o["stories"] for o in data["facets"]["outlets"]} == {
        "Axios": 1,
        "El País": 1,
    }
    code, out, _ = run(capsys, "search", "Anthropic", "--index", str(built), "--json",
                       "--sort", "date", "-k", "4", "--per-document", "1")  # fmt: skip
    dates = [h["published"] for h in json.loads(out)["hits"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 4
    code, _, err = run(capsys, "search", "Anthropic", "--index", str(built), "--recency", "2")
    assert code == 2 and "recency must be a number from 0" in err


def test_ask_exports_markdown_csv_and_ris(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    question = "Why did Dario Amodei leave OpenAI?"
    code, md, _ = run(capsys, "ask", question, "--index", str(built), "--format", "markdown")
    assert code == 0 and md.startswith("# Why did Dario Amodei leave OpenAI?\n")
    assert "](https://news.example.org/amodei#:~:text=" in md
    code, out, _ = run(capsys, "ask", question, "--index", str(built), "--format", "csv")
    assert code == 0 and out.startswith("kind,number,title,outlet,published,")
    code, out, _ = run(capsys, "ask", question, "--index", str(built), "--format", "ris")
    assert code == 0 and "TI  - Why Dario Amodei left OpenAI\r\nT2  - Axios\r\n" in out
    code, out, err = run(capsys, "ask", question, "--index", str(built), "--outlet", "Nope",
                         "--format", "ris")  # fmt: skip
    assert code == 0 and "TY  -" not in out and "Relax the outlet filter" in err


def test_a_question_past_the_limit_says_it_was_cut(
    small_corpus: Path,
    build_index,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    index = build_index(small_corpus)
    assert main(["search", "Amodei " * 1000, "--index", str(index), "-k", "1"]) == 0
    assert "only the first 4,000 characters are searched" in capsys.readouterr().err
    assert main(["search", "Amodei", "--index", str(index), "-k", "1"]) == 0
    assert "first 4,000" not in capsys.readouterr().err


def test_names_with_line_breaks_or_escapes_are_printed_quoted_on_one_line(
    built: Path, small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file named "a\\nb.md" or holding an ESC sequence never breaks or recolours the output."""
    odd = "two\nlines\x1b[31m.md"
    (small_corpus / odd).write_text("# Odd\n\nA note about chips and export rules.\n")
    index = ["--corpus", str(small_corpus), "--index", str(built)]
    code, out, err = run(capsys, "remove", odd, "no\nsuch.md", *index, "--quiet")
    assert code == 1
    assert out.splitlines()[0] == f"removed {odd!r}"
    missing = "no\nsuch.md"
    assert len(err.splitlines()) == 1 and err.startswith(f"failed {missing!r}: No document")
    assert "\x1b" not in out + err


def test_control_characters_the_user_typed_are_echoed_as_escapes(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "X\x1b[31mRED\x1b]0;T\x07"
    code, out, err = run(capsys, "stats", "--index", f"/tmp/{evil}")
    assert code == 1 and "\x1b" not in err and "X\\x1b[31mRED\\x1b]0;T\\x07" in err
    code, out, err = run(capsys, "ask", "OpenAI", "--outlet", evil, "--index", str(built))
    assert "\x1b" not in out + err and "\\x1b[31m" in out + err
    code, out, err = run(
        capsys, "ask", f"{evil} Anthropic tokens", "--format", "markdown", "--index", str(built)
    )
    assert code == 0 and "\x1b" not in out and "\x07" not in out


def test_an_outlet_no_document_has_is_named_with_the_ones_there_are(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for verb in ("search", "ask"):
        code, _out, err = run(capsys, verb, "OpenAI", "--outlet", "Blomberg", "--index", str(built))
        assert code == 0 and "No outlet named 'Blomberg' in this index; its outlets: " in err
        assert "Crypto Briefing" in err.splitlines()[-1]
    _, _, err = run(
        capsys, "search", "OpenAI", "--outlet", "crypto briefing", "--index", str(built)
    )
    assert "No outlet named" not in err
    for verb in ("search", "timeline"):  # the timeline, and languages, say it too
        code, out, err = run(capsys, verb, "OpenAI", "--language", "english", "--index", str(built))
        assert code == 0 and "Try fewer filters" in out
        assert "No language named 'english' in this index; its languages: " in err


def test_ask_refuses_options_its_format_would_ignore(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for extra in ("--json", "--explain"):
        code, out, err = run(
            capsys, "ask", "OpenAI", "--format", "csv", extra, "--index", str(built)
        )
        assert (code, out) == (2, "")
        assert err == f"coverage-search: --format csv prints a file's content; leave out {extra}.\n"
