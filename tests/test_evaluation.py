"""Evaluation: BEIR files in, document-level metrics out, checked against values worked by hand."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from coverage_search.errors import EvalDataError
from coverage_search.evaluation import (
    BeirData,
    EvalReport,
    evaluate,
    load_beir,
    load_beir_folder,
    markdown_escape,
    mrr_at,
    ndcg_at,
    percentile,
    recall_at,
    score_rankings,
    write_corpus,
)

SHARED_EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


# -- metrics, by hand ------------------------------------------------------------------------


def test_ndcg_binary_relevance_matches_hand_computation() -> None:
    # relevant d1 at rank 1 and d3 at rank 3: DCG = 1/log2(2) + 1/log2(4) = 1.5
    # ideal: both at ranks 1 and 2: 1 + 1/log2(3)
    assert ndcg_at(["d1", "d2", "d3"], {"d1": 1, "d3": 1}) == pytest.approx(
        1.5 / (1 + 1 / math.log2(3))
    )
    assert ndcg_at(["d1", "d3"], {"d1": 1, "d3": 1}) == pytest.approx(1.0)


def test_ndcg_graded_relevance_uses_linear_gains() -> None:
    # d6 (gain 1) first, d5 (gain 2) second: DCG = 1 + 2/log2(3); ideal = 2 + 1/log2(3)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg_at(["d6", "d5"], {"d5": 2, "d6": 1}) == pytest.approx(expected)
    assert expected == pytest.approx(0.8597, abs=1e-4)


def test_ndcg_ignores_hits_beyond_the_cut_and_zero_judgments() -> None:
    ranking = [f"x{i}" for i in range(10)] + ["d9"]
    assert ndcg_at(ranking, {"d9": 1}) == 0.0
    assert ndcg_at(["d0"], {"d0": 0, "d1": 1}) == 0.0
    assert (
        ndcg_at(["d0"], {"d0": 0}) == 0.0
    )  # nothing relevant: defined as 0, never a division error


def test_recall_and_mrr_match_hand_computation() -> None:
    ranking = ["a", "b", "c", "d"]
    relevant = {"c": 1, "d": 1, "z": 1}
    assert recall_at(ranking, relevant, 3) == pytest.approx(1 / 3)
    assert recall_at(ranking, relevant, 100) == pytest.approx(2 / 3)
    assert mrr_at(ranking, relevant, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranking, relevant, 2) == 0.0


def test_score_rankings_averages_over_judged_queries_only() -> None:
    qrels = {"q1": {"d1": 1, "d3": 1}, "q2": {"d9": 1}, "q3": {"d1": 0}}
    rankings = {"q1": ["d1", "d2", "d3"], "q2": ["d1"], "q3": ["d1"]}
    scores = score_rankings(rankings, qrels)
    q1_ndcg = 1.5 / (1 + 1 / math.log2(3))
    assert scores == pytest.approx(
        {"ndcg_at_10": q1_ndcg / 2, "recall_at_10": 0.5, "recall_at_100": 0.5, "mrr_at_10": 0.5}
    )


def test_percentile_interpolates() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([], 50) == 0.0


# -- BEIR files ------------------------------------------------------------------------------

DOCS = [
    {
        "_id": "d1",
        "title": "Volcanoes of Iceland",
        "text": "Eruptions at Eyjafjallajokull grounded flights across Europe in 2010.",
    },
    {
        "_id": "d2",
        "title": "Sourdough baking",
        "text": "A starter of flour and water ferments for days before the bread rises.",
    },
    {
        "_id": "d3",
        "title": "Chess openings",
        "text": "The Sicilian Defence answers 1.e4 with c5 and leads to sharp positions.",
    },
    {
        "_id": "d4",
        "title": "Coral reefs",
        "text": "Warm oceans bleach coral: the algae that feed the reef leave when water heats up.",
    },
    {
        "_id": "d5",
        "title": "Tax law",
        "text": "Capital gains on shares held longer than a year are taxed at a lower rate.",
    },
    {
        "_id": "d/6",
        "title": "Marathon training",
        "text": "Runners build weekly mileage slowly and taper before race day.",
    },
]
QUERIES = [
    {"_id": "q1", "text": "volcanic ash cancelled European flights"},
    {"_id": "q2", "text": "how do you make bread with a fermented starter"},
    {"_id": "q3", "text": "why do coral reefs turn white when the sea warms"},
    {"_id": "q4", "text": "getting ready for a long-distance footrace"},
    {"_id": "q5", "text": "a query nobody judged"},
]
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td4\t2\nq4\td/6\t1\n"


def write_beir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in DOCS) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in QUERIES) + "\n")
    (folder / "qrels.tsv").write_text(QRELS)
    return folder


def test_load_beir_reads_the_three_files(tmp_path: Path) -> None:
    data = load_beir_folder(write_beir(tmp_path / "tiny"))
    assert data.name == "tiny"
    assert data.corpus["d3"] == ("Chess openings", DOCS[2]["text"])
    assert data.queries["q2"] == QUERIES[1]["text"]
    assert data.qrels["q3"] == {"d4": 2}
    assert data.judged_queries() == ["q1", "q2", "q3", "q4"]


def test_queries_without_text_are_not_judged() -> None:
    data = BeirData(
        "x", {"d": ("t", "text")}, {"a": "  ", "b": "words"}, {"a": {"d": 1}, "b": {"d": 1}}
    )
    assert data.judged_queries() == ["b"]


def test_load_beir_accepts_a_qrels_file_without_header(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "tiny")
    (folder / "qrels.tsv").write_text("q1\td1\t1\n")
    data = load_beir(folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels.tsv")
    assert data.qrels == {"q1": {"d1": 1}}


@pytest.mark.parametrize(
    ("broken", "content", "message"),
    [
        ("corpus.jsonl", "{not json\n", "is not JSON"),
        ("corpus.jsonl", '{"title": "no id"}\n', 'has no "id"'),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1 d1 1\n", "separated by tabs"),
        ("qrels.tsv", "q1\td1\thigh\n", "not a number"),
        ("qrels.tsv", "q9\td1\t1\n", "Check that the ids match"),
    ],
)
def test_bad_beir_files_raise_one_clear_error(
    tmp_path: Path, broken: str, content: str, message: str
) -> None:
    folder = write_beir(tmp_path / "tiny")
    (folder / broken).write_text(content)
    with pytest.raises(EvalDataError, match=message):
        load_beir_folder(folder)


def test_missing_file_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match="Cannot read"):
        load_beir_folder(tmp_path / "absent")


def test_markdown_escape_renders_back_verbatim() -> None:
    from coverage_search.sources.markdown import markdown_to_text

    text = (
        "# not a heading * [link](x) _under_ <b>tag</b> &amp; `code` 1. item | a | b | ~~s~~ \\ end"
    )
    assert markdown_to_text(markdown_escape(text)).text == text


def test_write_corpus_writes_markdown_with_title_front_matter(tmp_path: Path) -> None:
    data = load_beir_folder(write_beir(tmp_path / "tiny"))
    names = write_corpus(data, tmp_path / "corpus")
    assert sorted(names.values()) == sorted(d["_id"] for d in DOCS)
    assert names["d_6.md"] == "d/6"
    first = (tmp_path / "corpus" / "d1.md").read_text()
    assert first.startswith("---\ntitle: Volcanoes of Iceland\n---\n\n")
    # unchanged files keep their bytes and mtime, so an incremental build sees no change
    before = (tmp_path / "corpus" / "d1.md").stat().st_mtime_ns
    time.sleep(0.01)
    write_corpus(data, tmp_path / "corpus")
    assert (tmp_path / "corpus" / "d1.md").stat().st_mtime_ns == before


def test_eval_report_to_dict_is_json_ready() -> None:
    from coverage_search.evaluation import ModeMetrics

    metrics = ModeMetrics("hybrid", 2, 0.5, 0.5, 1.0, 0.5, 10.0, 20.0)
    report = EvalReport("tiny", 3, 4, 2, 1.5, (metrics,), {"alpha": "0.5"})
    data = json.loads(json.dumps(report.to_dict()))
    assert data["modes"][0] == {
        "mode": "hybrid",
        "queries": 2,
        "ndcg_at_10": 0.5,
        "recall_at_10": 0.5,
        "recall_at_100": 1.0,
        "mrr_at_10": 0.5,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
    }
    assert report.mode("hybrid") is metrics


# -- end to end, with the real build, model, SQLite and FAISS --------------------------------


def test_evaluate_tiny_collection_end_to_end(tmp_path: Path) -> None:
    data = load_beir_folder(write_beir(tmp_path / "tiny"))
    report = evaluate(data, progress=False)
    assert (report.dataset, report.documents, report.queries) == ("tiny", 6, 4)
    assert [m.mode for m in report.modes] == ["keyword", "semantic", "hybrid"]
    # Every query names its topic in other words; the model must rank the right document first.
    assert report.mode("semantic").mrr_at_10 == pytest.approx(1.0)
    assert report.mode("hybrid").ndcg_at_10 == pytest.approx(1.0)
    assert report.mode("hybrid").recall_at_100 == pytest.approx(1.0)
    # q4 shares no word with its document: keyword search cannot find it.
    assert 0 < report.mode("keyword").ndcg_at_10 < 1.0
    assert all(m.p95_ms >= m.p50_ms > 0 for m in report.modes)


def test_evaluate_rejects_unknown_mode(tmp_path: Path) -> None:
    data = BeirData("x", {"d": ("t", "text")}, {"q": "text"}, {"q": {"d": 1}})
    with pytest.raises(EvalDataError, match="Unknown mode fuzzy"):
        evaluate(data, modes=["fuzzy"], progress=False)


def test_cli_eval_prints_json_for_one_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage_search.cli import main

    folder = write_beir(tmp_path / "tiny")
    args = [
        "eval",
        "--corpus",
        str(folder / "corpus.jsonl"),
        "--queries",
        str(folder / "queries.jsonl"),
    ]
    code = main([*args, "--qrels", str(folder / "qrels.tsv"), "--mode", "hybrid", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert [m["mode"] for m in data["modes"]] == ["hybrid"]
    assert data["modes"][0]["ndcg_at_10"] == pytest.approx(1.0)
    assert (data["documents"], data["queries"]) == (6, 4)


# -- the eval command: real CLI, in-process (and one real process for the error path) -------


def eval_argv(folder: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--corpus",
        str(folder / "corpus.jsonl"),
        "--queries",
        str(folder / "queries.jsonl"),
        "--qrels",
        str(folder / "qrels.tsv"),
        *extra,
    ]


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    from coverage_search.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


METRIC_COLUMNS = ["mode", "nDCG@10", "R@10", "R@100", "MRR@10", "p50", "ms"]


def test_cli_eval_text_has_every_mode_and_the_metric_columns(
    tmp_path: Path, embedder: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, eval_argv(write_beir(tmp_path / "tiny"), "--quiet"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("tiny: 6 documents, 6 passages, 4 judged queries; built in ")
    assert lines[1].split() == METRIC_COLUMNS
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines[2:]}
    assert list(rows) == ["keyword", "semantic", "hybrid"]
    for mode, (ndcg, r10, r100, mrr, p50) in rows.items():
        assert all(0.0 <= v <= 1.0 for v in (ndcg, r10, r100, mrr)), mode
        assert r100 >= r10 and p50 > 0, mode
    assert rows["hybrid"][0] == 1.0 and rows["keyword"][0] < 1.0  # q4 shares no word with d/6


def write_commit_collection(folder: Path) -> Path:
    """Eight identical incident reports that differ only in a commit hash; each query is a hash.

    The embedding of a hex string says next to nothing, so only keyword search can tell the
    reports apart (measured: semantic nDCG@10 0.74 with torch, 0.82 with ONNX int8).
    """
    import random

    rng = random.Random(5)
    hashes = ["".join(rng.choice("0123456789abcdef") for _ in range(10)) for _ in range(8)]
    body = (
        "The nightly build failed on the release branch after the dependency upgrade, and the "
        "on-call engineer rolled back the deploy, opened a ticket and asked the platform team "
        "to review the flaky integration tests before the next attempt."
    )
    docs = [
        {"_id": f"r{i}", "title": "Build incident", "text": f"{body} The culprit was commit {h}."}
        for i, h in enumerate(hashes)
    ]
    queries = [{"_id": f"q{i}", "text": f"commit {h}"} for i, h in enumerate(hashes)]
    folder.mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    qrels = "".join(f"q{i}\tr{i}\t1\n" for i in range(len(hashes)))
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    return folder


def test_cli_eval_json_ranks_keyword_first_where_only_words_match(
    tmp_path: Path, embedder: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, eval_argv(write_commit_collection(tmp_path / "c"), "--json"))
    assert code == 0
    data = json.loads(out)
    assert (data["dataset"], data["documents"], data["queries"]) == ("c", 8, 8)
    modes = {m["mode"]: m for m in data["modes"]}
    assert list(modes) == ["keyword", "semantic", "hybrid"]
    for name, m in modes.items():
        metrics = [m["ndcg_at_10"], m["recall_at_10"], m["recall_at_100"], m["mrr_at_10"]]
        assert all(0.0 <= v <= 1.0 for v in metrics), name
        assert m["queries"] == 8 and m["recall_at_100"] >= m["recall_at_10"], name
        assert m["p95_ms"] >= m["p50_ms"] > 0, name
    assert modes["keyword"]["ndcg_at_10"] == modes["keyword"]["mrr_at_10"] == 1.0
    assert modes["semantic"]["ndcg_at_10"] < 0.95
    assert modes["semantic"]["mrr_at_10"] < modes["keyword"]["mrr_at_10"]
    # fusion keeps what keyword search found: the exact match outweighs near-equal cosines
    assert modes["hybrid"]["ndcg_at_10"] >= modes["semantic"]["ndcg_at_10"] + 0.05


def test_cli_eval_mode_semantic_reports_only_that_mode(
    tmp_path: Path, embedder: object, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_beir(tmp_path / "tiny")
    code, out, _ = run_cli(capsys, eval_argv(folder, "--mode", "semantic", "--quiet"))
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["semantic"]
    code, out, _ = run_cli(capsys, eval_argv(folder, "--mode", "semantic", "--json"))
    assert code == 0 and [m["mode"] for m in json.loads(out)["modes"]] == ["semantic"]


def test_cli_eval_unknown_mode_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage_search.cli import main

    with pytest.raises(SystemExit) as exc:
        main(eval_argv(write_beir(tmp_path / "tiny"), "--mode", "fuzzy"))
    assert exc.value.code == 2
    assert "invalid choice: 'fuzzy'" in capsys.readouterr().err


# file to break → (its content, part of the one line the user reads)
HOSTILE: dict[str, tuple[str, bytes, str]] = {
    "missing qrels": ("qrels.tsv", b"", "Cannot read"),
    "corpus is a folder": ("corpus.jsonl", b"", "is a folder"),
    "broken JSON line": (
        "corpus.jsonl",
        b'{"_id": "d1", "text": "ok"}\n{"_id": "d2", "te\n',
        ":2 is not JSON",
    ),
    "JSON that is no object": ("queries.jsonl", b"[1, 2]\n", ":1 is not a JSON object"),
    "not UTF-8": ("corpus.jsonl", b'{"_id": "d1", "text": "caf\xe9"}\n', "is not UTF-8 text"),
    "score is a word": (
        "qrels.tsv",
        b"query-id\tcorpus-id\tscore\nq1\td1\thigh\n",
        "not a number: 'high'",
    ),
    "score is infinite": ("qrels.tsv", b"q1\td1\tinf\n", "not a number: 'inf'"),
    "spaces, not tabs": ("qrels.tsv", b"q1 d1 1\n", "separated by tabs"),
    "no judged query": ("qrels.tsv", b"q9\td1\t1\nq1\td1\t0\n", "No query in"),
    "judged documents not in corpus": ("qrels.tsv", b"q1\tzz\t1\n", "No relevant document"),
    "empty corpus": ("corpus.jsonl", b"\n\n", "holds no documents"),
    "only empty documents": ("corpus.jsonl", b'{"_id": "d1", "text": " "}\n', "is empty"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_cli_eval_hostile_input_is_one_line_exit_1(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, content, message = HOSTILE[case]
    folder = write_beir(tmp_path / "tiny")
    target = folder / name
    target.unlink()
    if case == "corpus is a folder":
        target.mkdir()
    elif case != "missing qrels":
        target.write_bytes(content)
    code, out, err = run_cli(capsys, eval_argv(folder, "--quiet"))
    assert (code, out) == (1, "")
    assert err.startswith("coverage-search: ") and err.count("\n") == 1, err
    assert message in err and "unexpected" not in err


def test_cli_eval_error_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = write_beir(tmp_path / "tiny")
    (folder / "corpus.jsonl").write_text("{not json\n")
    done = subprocess.run(
        [sys.executable, "-m", "coverage_search", *eval_argv(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"coverage-search: {folder / 'corpus.jsonl'}:1 is not JSON " + (
        "(Expecting property name enclosed in double quotes). Give a BEIR .jsonl file.\n"
    )


def test_qrels_with_a_byte_order_mark_keep_their_header(tmp_path: Path) -> None:
    from coverage_search.evaluation import read_qrels

    path = tmp_path / "qrels.tsv"
    path.write_bytes(b"\xef\xbb\xbfquery-id\tcorpus-id\tscore\nq1\td1\t2\n")
    assert read_qrels(path) == {"q1": {"d1": 2}}


def test_collection_name_from_a_bare_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_beir(tmp_path / "tiny")
    monkeypatch.chdir(folder)
    assert load_beir("corpus.jsonl", "queries.jsonl", "qrels.tsv").name == "tiny"


def time_subset(data: BeirData, queries: int = 12, distractors: int = 60) -> BeirData:
    """The first TIME queries, their judged articles and every 5th other article (cheap)."""
    ids = data.judged_queries()[:queries]
    judged = {d for q in ids for d in data.qrels[q]}
    others = [d for d in data.corpus if d not in judged][::5][:distractors]
    corpus = {d: data.corpus[d] for d in data.corpus if d in judged or d in others}
    return BeirData("time1963-subset", corpus, {q: data.queries[q] for q in ids}, data.qrels)


@pytest.mark.eval
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_time1963_subset_keeps_its_quality(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    folder = SHARED_EVAL / "time1963"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared evaluation data is not on this machine)")
    data = time_subset(load_beir_folder(folder))
    assert (len(data.corpus), len(data.judged_queries())) == (102, 12)
    # The first run embeds ~700 passages (30-90 s on 2 cores); the index is kept in pytest's
    # cache, so later runs embed nothing. The full collection: bench/eval_fusion.py.
    cache = getattr(pytestconfig, "cache", None)  # absent under -p no:cacheprovider
    index = cache.mkdir("time1963-subset-index") if cache is not None else tmp_path / "index"
    report = evaluate(data, index_dir=index, progress=False)
    ndcg = {m.mode: m.ndcg_at_10 for m in report.modes}
    # Measured: keyword 0.843, semantic 0.908, hybrid 0.931 (full TIME: 0.745, 0.805, 0.824).
    assert ndcg["hybrid"] >= 0.90
    assert ndcg["hybrid"] >= max(ndcg["keyword"], ndcg["semantic"]) - 0.02
