"""evaluate() and evaluate_qa() pass `build_options` and `search_options` on as keywords: a name
they do not take, or options that are not a mapping, raised TypeError ("got an unexpected
keyword argument"), for evaluate() only after the whole collection was built. Now each is one
QueryError naming the options that exist, raised before anything is built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hostile_support import build_corpus

WRONG: dict[str, dict[str, Any]] = {
    "unknown search option": {"search_options": {"nope": 1}},
    "k given twice": {"search_options": {"k": 3}},
    "not a mapping": {"search_options": [("mode", "keyword")]},
    "unknown build option": {"build_options": {"force": True, "nope": 2}},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("api-options"))


@pytest.mark.parametrize("case", list(WRONG))
def test_evaluate_qa_refuses_options_it_cannot_pass_on(built: dict[str, Path], case: str) -> None:
    from coverage_search import QAQuestion, QueryError, evaluate_qa

    question = QAQuestion(question="When did Amodei leave OpenAI?", answer_span="December 2020")
    with pytest.raises(QueryError, match="option"):
        evaluate_qa([question], index_dir=built["index"], progress=False, **WRONG[case])
    good = evaluate_qa(
        [question], index_dir=built["index"], progress=False, search_options={"mode": "keyword"}
    )
    assert good.overall.questions == 1


@pytest.mark.parametrize("case", list(WRONG))
def test_evaluate_refuses_them_before_building(tmp_path: Path, case: str) -> None:
    from coverage_search import QueryError, evaluate, load_beir

    doc = {"_id": "d1", "title": "Exit", "text": "Dario Amodei left OpenAI in December 2020."}
    (tmp_path / "c.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "Amodei"}\n', encoding="utf-8")
    (tmp_path / "r.tsv").write_text("q1\td1\t1\n", encoding="utf-8")
    data = load_beir(tmp_path / "c.jsonl", tmp_path / "q.jsonl", tmp_path / "r.tsv")
    index = tmp_path / "index"
    with pytest.raises(QueryError, match="option"):
        evaluate(data, index_dir=index, corpus_dir=tmp_path / "md", progress=False, **WRONG[case])
    assert not index.exists() and not (tmp_path / "md").exists()


def test_evaluate_qa_with_neither_index_nor_corpus_says_to_give_one() -> None:
    """It said "Give either an index folder or a corpus .jsonl file, not both." of neither."""
    from coverage_search import EvalDataError, QAQuestion, evaluate_qa

    question = QAQuestion(question="When did Amodei leave OpenAI?", answer_span="December 2020")
    with pytest.raises(EvalDataError, match="one of them"):
        evaluate_qa([question], progress=False)
    with pytest.raises(EvalDataError, match="not both"):
        evaluate_qa([question], index_dir="index", corpus="c.jsonl", progress=False)


@pytest.mark.parametrize("hook", [5, "progress", object()])
def test_a_progress_hook_that_cannot_be_called_is_refused_up_front(
    built: dict[str, Path], hook: object
) -> None:
    """CoverageIndex.build(on_progress=<a tqdm bar>) raised TypeError from inside the build
    ("bool() undefined when iterable == total == None"); now a QueryError before it starts."""
    from coverage_search import CoverageIndex, QueryError

    before = CoverageIndex.live_build_name(built["index"])
    with pytest.raises(QueryError, match="on_progress must be a function"):
        CoverageIndex.build(
            built["corpus"], built["index"], on_progress=hook, progress=False, force=True
        )
    assert CoverageIndex.live_build_name(built["index"]) == before
    calls: list[tuple[str, int, int]] = []
    CoverageIndex.build(
        built["corpus"], built["index"], progress=False, force=True,
        on_progress=lambda *a: calls.append(a),
    )  # fmt: skip
    assert calls


def test_an_option_that_is_an_argument_of_its_own_says_so(built: dict[str, Path]) -> None:
    """search_options={"k": 3} said "no option 'k': use ..." and listed every option but k."""
    from coverage_search import QAQuestion, QueryError, evaluate_qa

    question = QAQuestion(question="When did Amodei leave OpenAI?", answer_span="December 2020")
    with pytest.raises(QueryError, match=r"no option 'k': give k= on its own"):
        evaluate_qa([question], index_dir=built["index"], progress=False, search_options={"k": 3})
    assert evaluate_qa([question], index_dir=built["index"], progress=False, k=3).overall.questions


def test_a_mode_among_retrieval_options_points_to_modes(tmp_path: Path) -> None:
    from coverage_search import QueryError, evaluate, load_beir

    doc = {"_id": "d1", "title": "Exit", "text": "Dario Amodei left OpenAI in December 2020."}
    (tmp_path / "c.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "Amodei"}\n', encoding="utf-8")
    (tmp_path / "r.tsv").write_text("q1\td1\t1\n", encoding="utf-8")
    data = load_beir(tmp_path / "c.jsonl", tmp_path / "q.jsonl", tmp_path / "r.tsv")
    with pytest.raises(QueryError, match=r"give modes= on its own"):
        evaluate(data, index_dir=tmp_path / "i", progress=False, search_options={"mode": "keyword"})
    assert not (tmp_path / "i").exists()
