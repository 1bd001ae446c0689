"""Hostile pass 19: inputs the earlier passes missed.

`remove a.md ./a.md` deleted a.md, then said the second name matched no document and exited 1.
A BEIR document holding a NUL was written as a file the scanner calls binary: the evaluation
left it out without a word. A QA question of control characters or direction marks failed only
when asked ("Type a question"), naming no line. A manifest whose corpus_path held a NUL stopped
every build, `add`, `update` and `remove` with "unexpected ValueError". `build(force="no")` was
truthy and emptied an index the empty-corpus guard keeps. A file of thousands of headings was
as many passages (one per section).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_support import (
    assert_one_line_error,
    build_corpus,
    cli,
    corpus_documents,
    indexed_document_count,
    keyword_doc_ids,
    live_build,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("pass19"))


def _folders(place: dict[str, Path]) -> tuple[str, ...]:
    return ("--corpus", str(place["corpus"]), "--index", str(place["index"]), "--quiet")


def test_a_document_named_twice_is_removed_once_without_a_failure(tmp_path: Path) -> None:
    """Each name was looked up after the one before was deleted: the second spelling of the
    same file (its path) matched nothing, and the command exited 1 having done what was asked."""
    place = build_corpus(tmp_path)
    again = str(place["corpus"] / "cooking.md")
    code, out, err = cli("remove", "cooking.md", again, "./cooking.md", *_folders(place))
    assert code == 0, err
    assert "No document" not in err and out.count("removed cooking.md") == 1, (out, err)
    assert "cooking.md" not in corpus_documents(place["corpus"])
    assert not keyword_doc_ids(place["index"], "tomatoes garlic")
    code, _out, err = cli("remove", "openai-exit.md", "nothing-here.md", *_folders(place))
    assert code == 1 and "nothing-here.md" in err, err  # an unknown name still fails
    assert "openai-exit.md" not in corpus_documents(place["corpus"])


def _beir(folder: Path, docs: list[dict[str, str]], queries: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    corpus, asked, judged = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels.tsv"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    asked.write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()),
        encoding="utf-8",
    )
    rows = [f"{q}\t{doc}\t1\n" for q, doc in zip(queries, (d["_id"] for d in docs), strict=False)]
    judged.write_text("query-id\tcorpus-id\tscore\n" + "".join(rows), encoding="utf-8")
    return [corpus, asked, judged]


def test_a_beir_document_holding_a_nul_is_indexed_not_left_out(tmp_path: Path) -> None:
    """The NUL went into the Markdown file, which the build skipped as binary data: the report
    said 1 document of 2 and scored the query that judged it as never finding it."""
    docs = [
        {"_id": "z1", "title": "Zebras", "text": "Zebras have black\u0000 and white stripes."},
        {"_id": "g1", "title": "Garlic\u0000", "text": "Garlic prices rose sharply in spring."},
        {"_id": "o1", "title": "Olive harvest", "text": "\u0000\u0000"},  # its title is its text
    ]
    asked = {"q1": "zebra stripes", "q2": "garlic prices", "q3": "olive harvest"}
    corpus, queries, qrels = _beir(tmp_path, docs, asked)
    argv = ("--corpus", corpus, "--queries", queries, "--qrels", qrels, "--mode", "keyword")
    code, out, err = cli("eval", *argv, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["documents"] == 3, report
    assert report["modes"][0]["recall_at_10"] == 1.0, report


def test_an_off_topic_question_of_controls_is_refused_by_its_line(
    built: dict[str, Path], tmp_path: Path
) -> None:
    qa, refuse = tmp_path / "qa.jsonl", tmp_path / "refuse.jsonl"
    row = {"question": "When did Amodei leave OpenAI?", "answer_span": "December 2020"}
    qa.write_text(json.dumps(row) + "\n", encoding="utf-8")
    refused = [{"question": "What is the capital of Peru?"}, {"question": "\u0000\u200e"}]
    refuse.write_text("".join(json.dumps(r) + "\n" for r in refused), encoding="utf-8")
    code, out, err = cli("eval", "--qa", qa, "--index", built["index"], "--refuse", refuse)
    message = assert_one_line_error(code, err)
    assert 'refuse.jsonl:2 needs a non-empty "question"' in message and not out


def test_the_api_refuses_a_question_of_controls_before_asking(built: dict[str, Path]) -> None:
    from coverage_search import EvalDataError, QAQuestion, evaluate_qa

    question = QAQuestion(question="\x07\u200e", answer_span="December 2020")
    with pytest.raises(EvalDataError, match="Question 1 needs a non-empty question"):
        evaluate_qa([question], index_dir=built["index"], progress=False)
    fine = QAQuestion(question="When did Amodei leave OpenAI?", answer_span="December 2020")
    with pytest.raises(EvalDataError, match="Off-topic question 1 is empty"):
        evaluate_qa([fine], refusals=["\x00"], index_dir=built["index"], progress=False)


def test_a_manifest_whose_corpus_folder_holds_a_nul_stops_nothing(tmp_path: Path) -> None:
    """os.path.samefile raised ValueError for the NUL: build (even --force), add, update and
    remove all ended in "unexpected ValueError", so nothing could repair the index but
    deleting it."""
    place = build_corpus(tmp_path)
    manifest = live_build(place["index"]) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["corpus_path"] = "/no\u0000where"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = cli("remove", "cooking.md", *_folders(place))
    assert code == 0 and "removed cooking.md" in out, err
    note = tmp_path / "note.md"
    note.write_text("Garlic prices rose sharply across the valley markets this spring.\n")
    code, _out, err = cli("add", note, *_folders(place))
    assert code == 0, err
    code, _out, err = cli("update", *_folders(place))
    assert code == 0, err
    code, _out, err = cli("build", "--force", *_folders(place))
    assert code == 0, err
    assert keyword_doc_ids(place["index"], "garlic prices valley") == ["note.md"]
    assert indexed_document_count(place["index"]) == 4


def test_a_build_flag_that_is_not_true_or_false_is_refused(tmp_path: Path) -> None:
    """force="no" is truthy: an empty folder replaced an index of four documents, which the
    empty-corpus guard exists to prevent; a wrong chunking was reported as the backend."""
    from coverage_search import CoverageIndex, QueryError

    place = build_corpus(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(QueryError, match=r"^force must be True or False, not str"):
        CoverageIndex.build(empty, place["index"], force="no", progress=False)  # type: ignore[arg-type]
    assert indexed_document_count(place["index"]) == 4
    with pytest.raises(QueryError, match=r"^chunking must be ChunkSettings, not dict"):
        CoverageIndex.build(place["corpus"], place["index"], chunking={"target_tokens": 80})  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=r"^backend must be a name \(onnx-int8"):
        CoverageIndex.build(place["corpus"], place["index"], backend=8)  # type: ignore[arg-type]


def test_a_file_of_thousands_of_headings_is_not_thousands_of_passages(tmp_path: Path) -> None:
    """Each heading was a section and each section at least one passage: 400 KB of headings
    made 100,000 passages (an hour of embedding where as much prose makes a few hundred)."""
    from coverage_search import CoverageIndex

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = ["# Chapter"] * 3000
    lines[1500] = "# Zanzibar harbour reopened"
    (corpus / "contents.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index", "--quiet")
    assert code == 0, err
    index = CoverageIndex.open(tmp_path / "index")
    try:
        assert index.stats().passages < 100
        [hit] = index.search("Zanzibar harbour", k=1, mode="keyword")
        assert "Zanzibar harbour reopened" in hit.text
    finally:
        index.close()


def test_past_the_heading_cap_a_manual_is_still_cut_at_its_chapters(tmp_path: Path) -> None:
    """Over 2,000 headings, every heading was dropped at once (a cliff: 2,000 made 2,000
    passages, 2,001 lost the chapters too); the shallowest levels that fit are kept."""
    from coverage_search import CoverageIndex

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    chapters = [
        f"# Chapter {n}\n\n" + "".join(f"### Step {n}.{m}\n\nTurn the knob.\n\n" for m in range(30))
        for n in range(100)
    ]  # 100 chapters of 30 steps: 3,100 headings
    chapters[42] = chapters[42].replace("# Chapter 42", "# Zanzibar harbour")
    (corpus / "manual.md").write_text("".join(chapters), encoding="utf-8")
    code, _out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index", "--quiet")
    assert code == 0, err
    index = CoverageIndex.open(tmp_path / "index")
    try:
        assert 100 <= index.stats().passages < 400
        [hit] = index.search("Zanzibar harbour", k=1, mode="keyword")
        assert hit.heading == "Zanzibar harbour"  # the chapter is still the passage's heading
        assert "Step 42." in hit.text  # and its steps' headings are still text
    finally:
        index.close()
