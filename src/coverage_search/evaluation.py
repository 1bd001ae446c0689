"""Retrieval quality on a BEIR collection: build a throwaway index, run every query, score."""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EvalDataError

if TYPE_CHECKING:
    from .index import CoverageIndex

MODES = ("keyword", "semantic", "hybrid")
DEPTH = 100  # documents ranked per query: enough for Recall@100
TOP = 10  # what nDCG@10, Recall@10 and MRR@10 look at

# CommonMark lets a backslash escape any ASCII punctuation, so escaped text renders verbatim.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class BeirData:
    """A BEIR collection: documents (id → title, text), queries (id → text) and judgments."""

    name: str
    corpus: Mapping[str, tuple[str, str]]
    queries: Mapping[str, str]
    qrels: Mapping[str, Mapping[str, int]]

    def judged_queries(self) -> list[str]:
        """Ids of the queries with text and at least one relevant document, in file order."""
        return [
            q
            for q, text in self.queries.items()
            if text.strip() and any(r > 0 for r in self.qrels.get(q, {}).values())
        ]


@dataclass(frozen=True, slots=True)
class ModeMetrics:
    """Document-level quality of one search mode over the judged queries, and its query latency."""

    mode: str
    queries: int
    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True)
class EvalReport:
    """What `evaluate` measured: one `ModeMetrics` per mode, plus the size of the index built."""

    dataset: str
    documents: int
    passages: int
    queries: int
    build_seconds: float
    modes: tuple[ModeMetrics, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def mode(self, name: str) -> ModeMetrics:
        """The metrics of one mode."""
        for metrics in self.modes:
            if metrics.mode == name:
                return metrics
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["options"] = dict(self.options)
        return data


# -- reading and writing BEIR files ---------------------------------------------------------


def _jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8-sig") as lines:  # -sig: a BOM is not part of line 1
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvalDataError(
                        f"{path}:{number} is not JSON ({exc.msg}). Give a BEIR .jsonl file."
                    ) from exc
                if not isinstance(row, dict) or ("_id" not in row and "id" not in row):
                    raise EvalDataError(f'{path}:{number} has no "id". Give a BEIR .jsonl file.')
                yield number, row
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path} ({exc.strerror or exc}). Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path} is not UTF-8 text. Give a BEIR .jsonl file.") from exc


def _row_id(row: Mapping[str, Any]) -> str:
    return str(row.get("_id", row.get("id")))


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query-id → corpus-id → relevance from a BEIR qrels TSV (the header line is optional)."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path} ({exc.strerror or exc}). Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path} is not UTF-8 text. Give a BEIR qrels .tsv file.") from exc
    for number, line in enumerate(lines, start=1):
        cells = line.strip().split("\t")
        if not line.strip() or (
            number == 1 and cells[0].lower() in ("query-id", "query_id", "qid")
        ):
            continue
        if len(cells) < 3:
            raise EvalDataError(
                f"{path}:{number} needs query-id, corpus-id and score separated by tabs."
            )
        try:
            score = int(float(cells[-1]))
        except (ValueError, OverflowError) as exc:  # "high", "nan", "inf"
            raise EvalDataError(
                f"{path}:{number} has a score that is not a number: {cells[-1]!r}."
            ) from exc
        qrels.setdefault(cells[0], {})[cells[-2]] = score
    return qrels


def load_beir(
    corpus: Path | str, queries: Path | str, qrels: Path | str, *, name: str | None = None
) -> BeirData:
    """A BEIR collection from its three files."""
    corpus, queries, qrels = Path(corpus), Path(queries), Path(qrels)
    docs = {
        _row_id(row): (str(row.get("title") or ""), str(row.get("text") or ""))
        for _, row in _jsonl(corpus)
    }
    texts = {_row_id(row): str(row.get("text") or "") for _, row in _jsonl(queries)}
    judged = read_qrels(qrels)
    if not docs:
        raise EvalDataError(f"{corpus} holds no documents. Give a BEIR corpus.jsonl.")
    if not any(title.strip() or text.strip() for title, text in docs.values()):
        raise EvalDataError(f"Every document in {corpus} is empty. Give documents with text.")
    data = BeirData(name or corpus.resolve().parent.name, docs, texts, judged)
    ids = data.judged_queries()
    if not ids:
        raise EvalDataError(
            f"No query in {queries} has a relevant document in {qrels}. Check that the ids match."
        )
    if not any(d in docs for q in ids for d, r in judged[q].items() if r > 0):
        raise EvalDataError(
            f"No relevant document in {qrels} is in {corpus}. Check that the ids match."
        )
    return data


def load_beir_folder(folder: Path | str) -> BeirData:
    """A BEIR collection from a folder holding corpus.jsonl, queries.jsonl and qrels.tsv."""
    folder = Path(folder)
    qrels = folder / "qrels.tsv"
    if not qrels.is_file() and (folder / "qrels").is_dir():
        qrels = folder / "qrels" / "test.tsv"
    return load_beir(folder / "corpus.jsonl", folder / "queries.jsonl", qrels, name=folder.name)


def markdown_escape(text: str) -> str:
    """`text` as Markdown that renders back to exactly `text` (ASCII punctuation escaped)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def write_corpus(data: BeirData, folder: Path | str) -> dict[str, str]:
    """Write each document as `<id>.md` with its title in front matter; returns file name → BEIR id.

    Files whose bytes are unchanged are not rewritten, so a reused folder keeps an incremental
    index (and its embedding cache) valid.
    """
    import yaml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for doc_id, (title, text) in data.corpus.items():
        stem = _UNSAFE_NAME.sub("_", doc_id)[:100] or "doc"
        name, n = f"{stem}.md", 1
        while name in names:
            n += 1
            name = f"{stem}-{n}.md"
        names[name] = doc_id
        front = (
            yaml.safe_dump({"title": title}, allow_unicode=True, width=1_000_000)
            if title.strip()
            else ""
        )
        body = markdown_escape(" ".join(text.split()))
        content = (f"---\n{front}---\n\n" if front else "") + body + "\n"
        path = folder / name
        raw = content.encode("utf-8")
        if not path.is_file() or path.read_bytes() != raw:
            path.write_bytes(raw)
    for stale in folder.glob("*.md"):
        if stale.name not in names:
            stale.unlink()
    return names


# -- metrics ---------------------------------------------------------------------------------


def ndcg_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (as trec_eval and BEIR compute it)."""
    gains = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    if ideal == 0:
        return 0.0
    dcg = sum(max(relevant.get(d, 0), 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    return dcg / ideal


def recall_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k."""
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(wanted.intersection(ranking[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the top k (0 if none)."""
    for i, doc in enumerate(ranking[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / i
    return 0.0


def score_rankings(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean nDCG@10, Recall@10, Recall@100 and MRR@10 over the queries in `rankings`."""
    ids = [q for q in rankings if any(r > 0 for r in qrels.get(q, {}).values())]
    if not ids:
        return {"ndcg_at_10": 0.0, "recall_at_10": 0.0, "recall_at_100": 0.0, "mrr_at_10": 0.0}

    def mean(values: Iterable[float]) -> float:
        return sum(values) / len(ids)

    return {
        "ndcg_at_10": mean(ndcg_at(rankings[q], qrels[q], 10) for q in ids),
        "recall_at_10": mean(recall_at(rankings[q], qrels[q], 10) for q in ids),
        "recall_at_100": mean(recall_at(rankings[q], qrels[q], 100) for q in ids),
        "mrr_at_10": mean(mrr_at(rankings[q], qrels[q], 10) for q in ids),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# -- running queries -------------------------------------------------------------------------


def rank_documents(
    index: CoverageIndex,
    query: str,
    names: Mapping[str, str],
    *,
    mode: str,
    depth: int = DEPTH,
    **search_options: Any,
) -> list[str]:
    """BEIR ids of the best `depth` documents for `query`; a document scores as its best passage.

    The top 10 come from a k=10 search, the rest from a k=`depth` one: hybrid fusion normalizes
    over a candidate pool that grows with k, so this measures the top 10 a user actually gets.
    Story grouping is off: every document is judged on its own.
    """
    options = {"per_document": 1, "group_stories": False, **search_options}
    ranking: list[str] = []
    for k in (TOP, depth) if depth > TOP else (depth,):
        for hit in index.search(query, k=k, mode=mode, **options):
            beir_id = names.get(hit.doc_id)
            if beir_id is not None and beir_id not in ranking:
                ranking.append(beir_id)
    return ranking[:depth]


def run_queries(
    index: CoverageIndex,
    data: BeirData,
    names: Mapping[str, str],
    *,
    modes: Sequence[str] = MODES,
    query_ids: Sequence[str] | None = None,
    progress: bool = True,
    **search_options: Any,
) -> tuple[dict[str, dict[str, list[str]]], dict[str, list[float]]]:
    """Rankings (mode → query id → BEIR ids) and latencies in ms (mode → list) for every query."""
    from tqdm import tqdm

    ids = list(query_ids) if query_ids is not None else data.judged_queries()
    rankings: dict[str, dict[str, list[str]]] = {m: {} for m in modes}
    latencies: dict[str, list[float]] = {m: [] for m in modes}
    bar = tqdm(
        total=len(ids) * len(modes), desc="queries", unit="q", disable=not progress, file=sys.stderr
    )
    with bar:
        for mode in modes:
            bar.set_postfix_str(mode)
            if ids:  # untimed: the first query may load the model (a cached build embeds nothing)
                rank_documents(index, data.queries[ids[0]], names, mode=mode, **search_options)
            for qid in ids:
                start = time.perf_counter()
                rankings[mode][qid] = rank_documents(
                    index, data.queries[qid], names, mode=mode, **search_options
                )
                latencies[mode].append((time.perf_counter() - start) * 1000)
                bar.update()
    return rankings, latencies


def evaluate(
    data: BeirData,
    *,
    modes: Sequence[str] = MODES,
    model: str | None = None,
    index_dir: Path | str | None = None,
    corpus_dir: Path | str | None = None,
    query_ids: Sequence[str] | None = None,
    progress: bool = True,
    build_options: Mapping[str, Any] | None = None,
    search_options: Mapping[str, Any] | None = None,
) -> EvalReport:
    """Build an index of `data`'s corpus (throwaway unless `index_dir` is given); score every query.

    The corpus is written as Markdown files and built by the real `CoverageIndex.build`, so the
    whole pipeline is measured. Reuse `index_dir` and `corpus_dir` across runs to reuse the
    embedding cache.
    """
    from .index import CoverageIndex

    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise EvalDataError(
            f"Unknown mode {', '.join(unknown) or '(none)'}: use {', '.join(MODES)}."
        )
    with tempfile.TemporaryDirectory(prefix="coverage-eval-") as scratch:
        corpus = Path(corpus_dir) if corpus_dir else Path(scratch) / "corpus"
        target = Path(index_dir) if index_dir else Path(scratch) / "index"
        names = write_corpus(data, corpus)
        start = time.perf_counter()
        CoverageIndex.build(
            corpus, target, model=model, progress=progress, **dict(build_options or {})
        )
        build_seconds = time.perf_counter() - start
        index = CoverageIndex.open(target, model=model)
        try:
            stats = index.stats()
            rankings, latencies = run_queries(
                index,
                data,
                names,
                modes=modes,
                query_ids=query_ids,
                progress=progress,
                **dict(search_options or {}),
            )
        finally:
            close = getattr(index, "close", None)
            if close is not None:
                close()
    results = []
    for mode in modes:
        scores = score_rankings(rankings[mode], data.qrels)
        results.append(
            ModeMetrics(
                mode=mode,
                queries=len(rankings[mode]),
                p50_ms=percentile(latencies[mode], 50),
                p95_ms=percentile(latencies[mode], 95),
                **scores,
            )
        )
    options = {k: repr(v) for k, v in {**(build_options or {}), **(search_options or {})}.items()}
    return EvalReport(
        dataset=data.name,
        documents=stats.documents,
        passages=stats.passages,
        queries=len(rankings[modes[0]]),
        build_seconds=build_seconds,
        modes=tuple(results),
        options=options,
    )
