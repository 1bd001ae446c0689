"""Answer quality: where the answer passage ranks, whether the answer quotes it, and refusals.

Each question comes with a short `answer_span` copied from the document that answers it. A
passage (hit) holds the answer when its text contains the span; the answer quotes it when one of
its cited sentences does (or, where the sentence splitter cut the span's sentence in two, the
cited sentences together do). Off-topic questions must be refused.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_search.arguments import file_path, keyword_names, keyword_options
from coverage_search.errors import EvalDataError
from coverage_search.evaluation.beir import (
    BeirData,
    claim_index,
    load_corpus,
    read_jsonl,
    write_corpus,
)
from coverage_search.evaluation.metrics import percentile
from coverage_search.evaluation.spans import check_spans, has_words, holds, resolve_doc_ids

if TYPE_CHECKING:
    from coverage_search.api import CoverageIndex
    from coverage_search.records import Answer, SearchHit

KINDS = ("who", "what", "when", "where", "why", "how", "number")
_QA_FILE = 'a QA .jsonl file (one {"question", "answer_span"} object per line)'
_REFUSE_FILE = 'a .jsonl file of off-topic questions (one {"question"} object per line)'


@dataclass(frozen=True, slots=True)
class QAQuestion:
    """One dev question: its text, the span that answers it, and optionally where and what."""

    question: str
    answer_span: str
    doc_id: str | None = None
    kind: str | None = None
    split: str | None = None


@dataclass(frozen=True, slots=True)
class QAOutcome:
    """What the engine did with one question."""

    question: str
    kind: str | None
    split: str | None
    passage_rank: int | None  # 1-based rank of the first hit holding the span, None: not in k
    document_first: bool  # the first hit is from the answer's document
    quoted: bool  # the answer quotes a sentence holding the span
    refused: bool  # the answer said nothing in the coverage was close enough
    answer: tuple[str, ...]  # the quoted sentences


@dataclass(frozen=True, slots=True)
class QAScores:
    """Counts over a group of questions (all, one kind, one split)."""

    questions: int
    passage_first: int
    passage_top3: int
    passage_top5: int
    document_first: int
    quoted: int
    refused: int

    @classmethod
    def of(cls, outcomes: Sequence[QAOutcome]) -> QAScores:
        ranks = [o.passage_rank for o in outcomes]
        return cls(
            questions=len(outcomes),
            passage_first=sum(r == 1 for r in ranks),
            passage_top3=sum(r is not None and r <= 3 for r in ranks),
            passage_top5=sum(r is not None and r <= 5 for r in ranks),
            document_first=sum(o.document_first for o in outcomes),
            quoted=sum(o.quoted for o in outcomes),
            refused=sum(o.refused for o in outcomes),
        )

    def rate(self, name: str) -> float:
        """A count as a share of the questions (0 when there are none)."""
        return float(getattr(self, name)) / self.questions if self.questions else 0.0


@dataclass(frozen=True, slots=True)
class QAReport:
    """Answer quality over a QA file, overall, per kind and per split, with false answers."""

    name: str
    documents: int
    passages: int
    overall: QAScores
    by_kind: Mapping[str, QAScores]
    by_split: Mapping[str, QAScores]
    offtopic: int  # off-topic questions asked
    false_answers: int  # of those, answered instead of refused
    p50_ms: float
    outcomes: tuple[QAOutcome, ...] = ()
    false_answer_questions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "documents": self.documents,
            "passages": self.passages,
            "overall": asdict(self.overall),
            "by_kind": {k: asdict(v) for k, v in self.by_kind.items()},
            "by_split": {k: asdict(v) for k, v in self.by_split.items()},
            "offtopic": self.offtopic,
            "false_answers": self.false_answers,
            "false_answer_questions": list(self.false_answer_questions),
            "p50_ms": round(self.p50_ms, 1),
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def _text(row: Mapping[str, Any], key: str, path: Path, number: int, what: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not has_words(value):
        raise EvalDataError(f'{path}:{number} needs a non-empty "{key}" string. Give {what}.')
    return value


def _optional(row: Mapping[str, Any], key: str, path: Path, number: int) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise EvalDataError(f'{path}:{number} has a "{key}" that is not text.')
    return str(value)


def load_qa(path: Path | str) -> list[QAQuestion]:
    """The questions of a QA .jsonl file; one-sentence EvalDataError for anything unusable."""
    path = file_path(path, "the QA file")
    out = []
    for number, row in read_jsonl(path, what=_QA_FILE, need_id=False):
        kind = _optional(row, "kind", path, number)
        kind = kind.strip().lower() if kind is not None else None  # "Why" is why
        if kind is not None and kind not in KINDS:
            raise EvalDataError(
                f"{path}:{number} has kind {kind!r}: use one of {', '.join(KINDS)}."
            )
        out.append(
            QAQuestion(
                question=_text(row, "question", path, number, _QA_FILE),
                answer_span=_text(row, "answer_span", path, number, _QA_FILE),
                doc_id=_optional(row, "doc_id", path, number),
                kind=kind,
                split=_optional(row, "split", path, number),
            )
        )
    if not out:
        raise EvalDataError(f"{path} holds no questions. Give {_QA_FILE}.")
    return out


def load_refusals(path: Path | str) -> list[str]:
    """The off-topic questions of a .jsonl file (each must be refused)."""
    path = file_path(path, "the off-topic questions file")
    out = [
        _text(row, "question", path, number, _REFUSE_FILE)
        for number, row in read_jsonl(path, what=_REFUSE_FILE, need_id=False)
    ]
    if not out:
        raise EvalDataError(f"{path} holds no questions. Give {_REFUSE_FILE}.")
    return out


def judge(question: QAQuestion, answer: Answer, doc_of: Callable[[SearchHit], str]) -> QAOutcome:
    """Score one answer against its question's span (and document, when the question names it)."""

    def right_doc(hit: SearchHit) -> bool:
        return question.doc_id is None or doc_of(hit) == question.doc_id

    rank = next(
        (h.rank for h in answer.hits if right_doc(h) and holds(h.text, question.answer_span)),
        None,
    )
    first = answer.hits[0] if answer.hits else None
    sentences = tuple(c.sentence for c in answer.sentences)
    quoted = any(holds(s, question.answer_span) for s in sentences) or (
        bool(sentences) and holds(" ".join(sentences), question.answer_span)
    )
    return QAOutcome(
        question=question.question,
        kind=question.kind,
        split=question.split,
        passage_rank=rank,
        document_first=first is not None and right_doc(first) and question.doc_id is not None,
        quoted=quoted,
        refused=not answer.found,
        answer=sentences,
    )


def ask_all(
    index: CoverageIndex,
    questions: Sequence[QAQuestion],
    refusals: Sequence[str],
    *,
    doc_of: Callable[[SearchHit], str],
    k: int = 5,
    progress: bool = True,
    **options: Any,
) -> tuple[list[QAOutcome], list[str], list[float]]:
    """Outcomes, off-topic questions that were answered, and answer latencies (ms)."""
    from tqdm import tqdm

    outcomes: list[QAOutcome] = []
    answered: list[str] = []
    latencies: list[float] = []
    bar = tqdm(
        total=len(questions) + len(refusals),
        desc="questions",
        unit="q",
        disable=not progress,
        file=sys.stderr,
    )
    with bar:
        for q in questions:
            start = time.perf_counter()
            answer = index.answer(q.question, k=k, **options)
            latencies.append((time.perf_counter() - start) * 1000)
            outcomes.append(judge(q, answer, doc_of))
            bar.update()
        for text in refusals:
            if index.answer(text, k=k, **options).found:
                answered.append(text)
            bar.update()
    return outcomes, answered, latencies


def _group(
    outcomes: Sequence[QAOutcome], key: Callable[[QAOutcome], str | None]
) -> dict[str, QAScores]:
    groups: dict[str, list[QAOutcome]] = {}
    for o in outcomes:
        if (name := key(o)) is not None:
            groups.setdefault(name, []).append(o)
    return {name: QAScores.of(group) for name, group in sorted(groups.items())}


def report(
    name: str,
    index: CoverageIndex,
    outcomes: Sequence[QAOutcome],
    answered: Sequence[str],
    refusals: int,
    latencies: Sequence[float],
) -> QAReport:
    """The report over scored outcomes."""
    stats = index.stats()
    return QAReport(
        name=name,
        documents=stats.documents,
        passages=stats.passages,
        overall=QAScores.of(outcomes),
        by_kind=_group(outcomes, lambda o: o.kind),
        by_split=_group(outcomes, lambda o: o.split),
        offtopic=refusals,
        false_answers=len(answered),
        p50_ms=percentile(list(latencies), 50),
        outcomes=tuple(outcomes),
        false_answer_questions=tuple(answered),
    )


def evaluate_qa(
    questions: Sequence[QAQuestion],
    *,
    refusals: Sequence[str] = (),
    index_dir: Path | str | None = None,
    corpus: Path | str | None = None,
    keep_index: Path | str | None = None,
    model: str | None = None,
    k: int = 5,
    progress: bool = True,
    build_options: Mapping[str, Any] | None = None,
    search_options: Mapping[str, Any] | None = None,
) -> QAReport:
    """Ask every question of an existing index (`index_dir`) or of a BEIR corpus.jsonl (`corpus`,
    built into a throwaway index, or into `keep_index` to reuse it); score the answers."""
    from coverage_search.api import CoverageIndex

    if (index_dir is None) == (corpus is None):
        which = "not both" if corpus is not None else "one of them"
        raise EvalDataError(f"Give either an index folder or a corpus .jsonl file, {which}.")
    if index_dir is not None and keep_index is not None:
        raise EvalDataError(
            "keep_index keeps the index built of a corpus: with index_dir, leave it out."
        )
    if not _list_of(questions, QAQuestion):
        raise EvalDataError("questions must be a list of QAQuestion, as load_qa gives.")
    if not _list_of(refusals, str):
        raise EvalDataError("refusals must be a list of questions, as load_refusals gives.")
    _check_fields(questions, refusals)
    answering = keyword_names(CoverageIndex.answer, but={"k"})
    options = keyword_options(search_options, "search_options", answering, own={"k": "k"})
    building = keyword_names(CoverageIndex.build, but={"model", "progress"})
    building_options = keyword_options(
        build_options, "build_options", building, own={"model": "model", "progress": "progress"}
    )
    if index_dir is not None:
        index = CoverageIndex.open(index_dir, model=model)
        try:
            texts = {
                doc_id: doc.text
                for doc_id, _, _ in index.engine.documents()
                if (doc := index.document(doc_id)) is not None
            }
            questions = resolve_doc_ids(questions, texts)
            check_spans(questions, texts)
            outcomes, answered, latencies = ask_all(
                index,
                questions,
                refusals,
                doc_of=lambda h: h.doc_id,
                k=k,
                progress=progress,
                **options,
            )
            return report(Path(index_dir).name, index, outcomes, answered, len(refusals), latencies)
        finally:
            index.close()
    assert corpus is not None
    docs = load_corpus(corpus)
    questions = resolve_doc_ids(questions, docs)
    check_spans(questions, {doc_id: f"{title}\n{text}" for doc_id, (title, text) in docs.items()})
    with tempfile.TemporaryDirectory(prefix="coverage-qa-") as scratch:
        target = Path(keep_index) if keep_index else Path(scratch) / "index"
        folder = target.parent / f"{target.name}-corpus"
        # Never a user's own index; refused before the corpus is written beside it.
        claim_index(target, folder)
        names = write_corpus(BeirData(Path(corpus).stem, docs, {}, {}), folder)
        CoverageIndex.build(folder, target, model=model, progress=progress, **building_options)
        index = CoverageIndex.open(target, model=model)
        try:
            outcomes, answered, latencies = ask_all(
                index,
                questions,
                refusals,
                doc_of=lambda h: names.get(h.doc_id, h.doc_id),
                k=k,
                progress=progress,
                **options,
            )
            return report(
                Path(corpus).resolve().parent.name,
                index,
                outcomes,
                answered,
                len(refusals),
                latencies,
            )
        finally:
            index.close()


def _check_fields(questions: Sequence[QAQuestion], refusals: Sequence[str]) -> None:
    """EvalDataError naming the first question whose fields are not what load_qa gives, before
    anything is built or asked."""
    for n, q in enumerate(questions, start=1):
        if not all(isinstance(t, str) and has_words(t) for t in (q.question, q.answer_span)):
            raise EvalDataError(f"Question {n} needs a non-empty question and answer_span (text).")
        if not all(v is None or isinstance(v, str) for v in (q.doc_id, q.kind, q.split)):
            raise EvalDataError(f"Question {n} has a doc_id, kind or split that is not text.")
    if empty := next((n for n, text in enumerate(refusals, start=1) if not has_words(text)), 0):
        raise EvalDataError(f"Off-topic question {empty} is empty.")


def _list_of(value: object, kind: type) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(isinstance(v, kind) for v in value)
    )
