"""`coverage-search eval --qa`: answer quality on a QA file, and one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage_search import EvalDataError, QAQuestion, evaluate_qa, load_qa
from coverage_search.cli import main

QUESTIONS = [
    {
        "question": "What did the AI company say would happen to unauthorized share tokens?",
        "answer_span": "would be void under its transfer restrictions",
        "doc_id": "anthropic-tokens.md",
        "kind": "what",
        "split": "tune",
    },
    {
        "question": "In which month and year did the Anthropic founder quit OpenAI?",
        "answer_span": "December 2020",
        "doc_id": "openai-exit.md",
        "kind": "when",
        "split": "confirm",
    },
    {
        "question": "How long should the tomatoes cook with garlic?",
        "answer_span": "three hours",
        "kind": "number",
        "split": "tune",
    },
]
OFFTOPIC = [{"question": "What is the boiling point of tungsten?"}]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    from conftest import SMALL_CORPUS, write_doc
    from coverage_search import CoverageIndex

    root = tmp_path_factory.mktemp("qa")
    for name, (body, meta) in SMALL_CORPUS.items():
        write_doc(root / "corpus", name, body, **meta)
    CoverageIndex.build(root / "corpus", root / "index", progress=False)
    return root


def test_report_counts_ranks_quotes_and_refusals(built: Path) -> None:
    qa = write_jsonl(built / "qa.jsonl", QUESTIONS)
    report = evaluate_qa(
        load_qa(qa), refusals=["What is the boiling point of tungsten?"], index_dir=built / "index"
    )
    assert report.overall.questions == 3 and report.documents == 4
    first = report.outcomes[0]
    assert first.passage_rank == 1 and first.document_first and first.quoted and not first.refused
    assert any("void" in s for s in first.answer)
    assert report.by_split["tune"].questions == 2 and report.by_split["confirm"].questions == 1
    assert set(report.by_kind) == {"what", "when", "number"}
    assert report.offtopic == 1 and report.false_answers == 0
    # The third question names no document: the passage holding the span counts wherever it is.
    assert report.outcomes[2].passage_rank is not None
    assert not report.outcomes[2].document_first  # no doc_id: never counted as "right document"


def test_cli_prints_a_table_and_json(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qa = write_jsonl(built / "qa.jsonl", QUESTIONS)
    off = write_jsonl(built / "off.jsonl", OFFTOPIC)
    args = ["eval", "--qa", str(qa), "--index", str(built / "index"), "--quiet"]
    assert main([*args, "--refuse", str(off)]) == 0
    out = capsys.readouterr().out
    assert "3 questions" in out and "psg@1" in out and "off-topic: 0 of 1 answered" in out
    assert main([*args, "--json", "--split", "confirm"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["questions"] == 1 and data["outcomes"][0]["kind"] == "when"


def test_a_beir_corpus_is_built_and_asked(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = write_jsonl(
        tmp_path / "corpus.jsonl",
        [
            {"_id": "a1", "title": "Harbour", "text": "The ferry to the island leaves at dawn."},
            {"_id": "b2", "title": "Budget", "text": "The council cut the library budget by 12%."},
        ],
    )
    questions = [QAQuestion("By how much was the library money reduced?", "12%", "b2", "number")]
    report = evaluate_qa(questions, corpus=corpus, progress=False)
    assert report.overall.passage_first == 1 and report.overall.document_first == 1


BAD_FILES = {
    "not JSON": (b'{"question": "q", "answer_span": "x"}\n{oops\n', ":2 is not JSON"),
    "no answer_span": (b'{"question": "Why?"}\n', 'needs a non-empty "answer_span"'),
    "empty question": (b'{"question": " ", "answer_span": "void"}\n', '"question"'),
    "not an object": (b'["question"]\n', "is not a JSON object"),
    "empty file": (b"\n\n", "holds no questions"),
    "unknown kind": (
        b'{"question": "q?", "answer_span": "void", "kind": "colour"}\n',
        "has kind 'colour'",
    ),
    "not UTF-8": (b'{"question": "caf\xe9?", "answer_span": "void"}\n', "is not UTF-8"),
    "span not in the corpus": (
        b'{"question": "q?", "answer_span": "purple elephants dance"}\n',
        "answer_span is in no document",
    ),
    "span not in its document": (
        b'{"question": "q?", "answer_span": "three hours", "doc_id": "openai-exit.md"}\n',
        "is not in document 'openai-exit.md'",
    ),
    "unknown document": (
        b'{"question": "q?", "answer_span": "void", "doc_id": "nope.md"}\n',
        "names document 'nope.md', which is not in the corpus",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_qa_files_are_one_line_errors(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    raw, message = BAD_FILES[case]
    qa = tmp_path / "qa.jsonl"
    qa.write_bytes(raw)
    assert main(["eval", "--qa", str(qa), "--index", str(built / "index"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qa = write_jsonl(tmp_path / "qa.jsonl", QUESTIONS)
    index = str(built / "index")
    assert main(["eval", "--qa", str(qa), "--quiet"]) == 2  # neither --index nor --corpus
    assert "give --index DIR or --corpus" in capsys.readouterr().err
    both = ["eval", "--qa", str(qa), "--index", index, "--corpus", str(qa), "--quiet"]
    assert main(both) == 2
    capsys.readouterr()
    assert main(["eval", "--qa", str(qa), "--index", index, "--split", "holdout"]) == 2
    assert "No question" in capsys.readouterr().err
    assert main(["eval", "--qa", str(tmp_path / "missing.jsonl"), "--index", index]) == 1
    assert "Cannot read" in capsys.readouterr().err
    with pytest.raises(EvalDataError):
        load_qa(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("kind", ["fifo", "device", "none", "nul"])
def test_a_qa_file_that_is_a_pipe_a_device_or_no_path_is_one_error(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO blocked `eval --qa` forever, and /dev/zero was read until memory ran out."""
    import os

    from coverage_search import CoverageSearchError, load_qa, load_refusals

    if kind == "fifo":
        path: object = tmp_path / "q.jsonl"
        os.mkfifo(path)  # type: ignore[arg-type]
    else:
        path = {"device": "/dev/zero", "none": None, "nul": "q\x00.jsonl"}[kind]
    for load in (load_qa, load_refusals):
        with pytest.raises(CoverageSearchError) as caught:
            load(path)  # type: ignore[arg-type]
        assert "\n" not in str(caught.value)
    # Each of a BEIR collection's three files in turn.
    from coverage_search import load_beir

    good = tmp_path / "good.jsonl"
    good.write_text('{"_id": "d1", "text": "x"}\n')
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q\td1\t1\n")
    for files in ((path, good, qrels), (good, path, qrels), (good, good, path)):
        with pytest.raises(CoverageSearchError) as caught:
            load_beir(*files)  # type: ignore[arg-type]
        assert "\n" not in str(caught.value)


def test_wrong_arguments_to_the_evaluators_are_one_error(tmp_path: Path) -> None:
    from coverage_search import EvalDataError, evaluate

    for bad in (None, "q", [None], 3):
        with pytest.raises(EvalDataError, match="list of QAQuestion"):
            evaluate_qa(bad, index_dir=tmp_path)  # type: ignore[arg-type]
    ok = [QAQuestion(question="Who?", answer_span="x")]
    for bad in (None, "q", [1], 3):
        with pytest.raises(EvalDataError, match="list of questions"):
            evaluate_qa(ok, refusals=bad, index_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(EvalDataError, match="collection from load_beir"):
        evaluate(None)  # type: ignore[arg-type]


def test_a_span_typed_with_plain_quotes_and_dashes_matches_the_printed_text(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    """Held-out spans are typed by people: "Amodei's" for "Amodei’s", "2020-21" for "2020–21"."""
    from coverage_search.evaluation.spans import holds, normalize

    printed = "Amodei’s exit — in 2020–21 — was “about safety”, the ﬁrst such split."
    assert holds(printed, "amodei's exit - in 2020-21")
    assert holds(printed, '"about safety", the first')
    assert holds("soft\u00adhyphen and zero\u200bwidth", "softhyphen and zerowidth")
    assert not holds(printed, "Amodei's entry")
    assert normalize("A\u00a0 b") == "a b"

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "exit.md").write_text(
        "# Why Amodei left\n\nDario Amodei’s reasons were about safety — not scaling. "
        "He left OpenAI in December 2020 with a group of researchers.\n",
        encoding="utf-8",
    )
    from coverage_search import CoverageIndex

    CoverageIndex.build(corpus, tmp_path / "index", progress=False)
    rows = [{"question": "What were Amodei's reasons?", "answer_span": "Amodei's reasons were "
             "about safety - not scaling", "doc_id": "exit.md"}]  # fmt: skip
    report = evaluate_qa(
        load_qa(write_jsonl(tmp_path / "qa.jsonl", rows)), index_dir=tmp_path / "index"
    )
    (outcome,) = report.outcomes
    assert outcome.passage_rank == 1 and outcome.quoted


def test_a_doc_id_that_can_only_mean_one_document_and_a_capitalised_kind_are_taken(
    built: Path,
) -> None:
    rows = [
        {**QUESTIONS[1], "doc_id": "openai-exit", "kind": "When"},
        {**QUESTIONS[1], "doc_id": "corpus/OpenAI-Exit.md"},
    ]
    report = evaluate_qa(load_qa(write_jsonl(built / "ids.jsonl", rows)), index_dir=built / "index")
    assert [o.kind for o in report.outcomes] == ["when", "when"]
    assert all(o.document_first for o in report.outcomes)  # judged against openai-exit.md
    with pytest.raises(EvalDataError, match="names document 'exit-openai'"):
        evaluate_qa(
            load_qa(write_jsonl(built / "bad.jsonl", [{**QUESTIONS[1], "doc_id": "exit-openai"}])),
            index_dir=built / "index",
        )
