"""The engine end to end with the real model, SQLite and FAISS: build, search, filters, rebuilds."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from conftest import SEED_ARTICLE, SHARED_EVAL, write_doc
from coverage_search import (
    CoverageIndex,
    IndexCorruptError,
    IndexMismatchError,
    NoIndexError,
    QueryError,
)
from coverage_search.build import layout
from coverage_search.engine.local.engine import VECTORS


@pytest.fixture()
def small_index(small_corpus: Path, build_index) -> CoverageIndex:
    return CoverageIndex.open(build_index(small_corpus))


def test_build_reports_what_it_did(small_corpus: Path, embedder) -> None:
    report = CoverageIndex.build(small_corpus, small_corpus.parent / "index", progress=False)
    assert report.documents == 4
    assert report.passages >= 4
    assert report.embedded + report.reused == report.passages
    assert report.removed == 0 and report.skipped == () and report.changed


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_every_mode_finds_the_right_document(small_index: CoverageIndex, mode: str) -> None:
    hits = small_index.search("Why did Dario Amodei leave OpenAI?", mode=mode, k=3)
    assert hits[0].doc_id in {"openai-exit.md", "elpais.md"}
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(hits[i].score >= hits[i + 1].score for i in range(len(hits) - 1))


def test_hybrid_hit_carries_everything_to_cite_it(small_index: CoverageIndex) -> None:
    hit = small_index.search("tokenized pre-IPO shares void", k=1)[0]
    assert hit.doc_id == "anthropic-tokens.md"
    assert (
        hit.outlet == "Crypto Briefing" and hit.published == "2026-05-20" and hit.language == "en"
    )
    assert hit.url == "https://example.com/tokens"
    assert hit.link.startswith("https://example.com/tokens#:~:text=")
    assert hit.semantic is not None and hit.keyword is not None
    document = small_index.document(hit.doc_id)
    assert document is not None and document.text[hit.start : hit.end] == hit.text
    data = hit.to_dict()
    assert json.loads(json.dumps(data))["passage_id"] == hit.passage_id


def test_keyword_mode_explains_only_keyword(small_index: CoverageIndex) -> None:
    hit = small_index.search("tomatoes garlic", mode="keyword", k=1)[0]
    assert hit.doc_id == "cooking.md"
    assert hit.keyword is not None and hit.keyword.rank == 1 and hit.semantic is None


def test_documents_without_url_link_to_their_corpus_file(small_index: CoverageIndex) -> None:
    hit = small_index.search("tomato sauce basil", k=1)[0]
    assert hit.url is None
    assert "cooking.md" in hit.link


def test_filters_apply_before_the_cut(small_index: CoverageIndex) -> None:
    # The sauce document is the worst match for this query, yet a filter must still surface it.
    hits = small_index.search("Dario Amodei OpenAI", outlets=["food weekly"], k=3)
    assert [h.doc_id for h in hits] == ["cooking.md"]
    assert {h.doc_id for h in small_index.search("Amodei", language="es")} == {"elpais.md"}
    since = small_index.search("Anthropic", since="2026-06-01", k=10)
    assert {h.doc_id for h in since} == {"openai-exit.md", "elpais.md"}
    until = small_index.search("Anthropic", until="2026-05-20", k=10)
    assert "openai-exit.md" not in {h.doc_id for h in until}
    assert small_index.search("Anthropic", outlets=["No Such Outlet"]) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "yesterday"}, "since must be a date"),
        ({"since": "2026-02-30"}, "since must be a date"),
        ({"since": "2026-06-01", "until": "2026-01-01"}, "is after until"),
        ({"mode": "magic"}, "Unknown mode"),
        ({"k": 0}, "k must be"),
    ],
)
def test_bad_options_say_what_to_fix(
    small_index: CoverageIndex, kwargs: dict, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        small_index.search("Anthropic", **kwargs)


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "\u200b\u200b", "\ufeff \u2060"])
def test_empty_query_is_a_clear_error(small_index: CoverageIndex, query: str) -> None:
    with pytest.raises(QueryError, match="Type a question"):
        small_index.search(query)


HOSTILE = [
    "Anthropic AND OR NOT",
    '"unbalanced quote',
    "NEAR(Anthropic OpenAI, 3)",
    "Anthro* ^start {col}: text",
    "title:Anthropic",
    "((()))[]{}",
    "!!! ??? ...",
    "🚀🤖 Anthropic 🤖",
    "'; DROP TABLE passages; --",
    "Anthropic " * 2000,
    "x" * 10_000,
    "\x00\x01 control chars",
]


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("mode", ["hybrid", "keyword", "semantic"])
def test_hostile_queries_never_raise(small_index: CoverageIndex, query: str, mode: str) -> None:
    hits = small_index.search(query, mode=mode, k=3)
    assert len(hits) <= 3
    if mode != "keyword" or "Anthropic" in query:
        assert hits  # real words still find passages


def test_at_most_two_passages_per_document_while_other_documents_match() -> None:
    from coverage_search.query.diversity import diversify

    ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (5, 0.5), (6, 0.4)]
    doc_of = {1: "A", 2: "A", 3: "A", 4: "B", 5: "A", 6: "C"}

    def ids(k: int) -> list[int]:
        return [pid for pid, _ in diversify(ranked, doc_of, k=k, per_group=2)]

    assert ids(3) == [1, 2, 4]
    assert ids(4) == [1, 2, 4, 6]  # C's passage before A's third
    assert ids(5) == [1, 2, 3, 4, 6]  # nothing else left: A's next, in rank order
    assert ids(9) == [1, 2, 3, 4, 5, 6]
    assert [pid for pid, _ in diversify(ranked, doc_of, k=9, per_group=0)] == [1, 2, 3, 4, 5, 6]


def test_a_small_corpus_fills_the_list_from_the_same_document(
    seed_corpus: Path, build_index
) -> None:
    index = CoverageIndex.open(build_index(seed_corpus))
    capped = index.search("Anthropic OpenAI safety", k=10)
    unlimited = index.search("Anthropic OpenAI safety", k=10, per_document=0)
    assert len(capped) == 10  # one document: the list is filled, not cut at 2
    assert [h.passage_id for h in capped] == [h.passage_id for h in unlimited]
    assert [h.rank for h in capped] == list(range(1, 11))


def test_seed_article_answers_the_product_questions(seed_corpus: Path, build_index) -> None:
    index = CoverageIndex.open(build_index(seed_corpus))
    hit = index.search("When did Dario Amodei leave OpenAI?", k=1)[0]
    assert "December" in hit.text and "2020" in hit.text
    top = index.search("What did Anthropic say about tokenized shares?", k=2)
    assert any("would be void" in h.text for h in top)  # the passage quoting Anthropic's warning
    hit = top[0]
    assert hit.url == "https://windowsforum.com/threads/427154/"
    assert len(hit.related) == 10 and hit.related[0].outlet == "Crypto Briefing"
    stats = index.stats()
    assert stats.documents == 1 and stats.outlets == ("WindowsForum",)
    assert stats.earliest == stats.latest == "2026-06-16"
    assert stats.model == "all-MiniLM-L6-v2" and stats.dimension == 384 and stats.index_bytes > 0


def test_unchanged_corpus_embeds_nothing(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    again = CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert again.embedded == 0 and not again.changed
    forced = CoverageIndex.build(small_corpus, index_dir, progress=False, force=True)
    assert forced.embedded == 0 and forced.reused == forced.passages and forced.changed


def test_editing_one_document_embeds_only_its_passages(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    before = CoverageIndex.open(index_dir).stats().passages
    path = small_corpus / "cooking.md"
    path.write_text(path.read_text() + "\n\nServe the sauce with fresh pappardelle.\n")
    report = CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert 1 <= report.embedded <= 2  # the cooking passage(s), nothing else
    assert report.reused == report.passages - report.embedded >= before - 2
    hit = CoverageIndex.open(index_dir).search("pappardelle", mode="keyword", k=1)[0]
    assert hit.doc_id == "cooking.md"


def test_deleted_file_disappears_from_results(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    (small_corpus / "cooking.md").unlink()
    report = CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert report.removed == 1 and report.embedded == 0
    hits = CoverageIndex.open(index_dir).search("tomato sauce garlic", k=10, per_document=0)
    assert "cooking.md" not in {h.doc_id for h in hits}


def test_exact_copies_are_indexed_once_and_shown_as_also_in(
    small_corpus: Path, build_index
) -> None:
    body, meta = (small_corpus / "openai-exit.md").read_text(), None
    copy = small_corpus / "syndicated-copy.md"
    copy.write_text(
        body.replace("outlet: Axios", "outlet: The Week").replace(
            "https://news.example.org/amodei", "https://theweek.example/amodei"
        )
    )
    assert meta is None
    report = CoverageIndex.build(small_corpus, small_corpus.parent / "index", progress=False)
    index = CoverageIndex.open(report.index_dir)
    hits = index.search("Dario Amodei left OpenAI December 2020", k=5)
    docs = [h.doc_id for h in hits]
    assert docs.count("openai-exit.md") + docs.count("syndicated-copy.md") == len(
        [h for h in hits if h.doc_id in {"openai-exit.md", "syndicated-copy.md"}]
    )
    assert not {"openai-exit.md", "syndicated-copy.md"} <= set(docs)  # one copy shown
    top = next(h for h in hits if h.doc_id in {"openai-exit.md", "syndicated-copy.md"})
    assert {c.outlet for c in top.also_in} == {"The Week", "Axios"} - {top.outlet}


def test_unreadable_and_unsupported_files_are_reported_and_skipped(
    small_corpus: Path, embedder
) -> None:
    (small_corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (small_corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (small_corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    report = CoverageIndex.build(small_corpus, small_corpus.parent / "index", progress=False)
    assert report.documents == 4
    reasons = {s.path: s for s in report.skipped}
    assert reasons["broken.pdf"].error and reasons["binary.txt"].error
    assert not reasons["notes.docx"].error


def test_open_without_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(NoIndexError, match="Run: coverage-search build"):
        CoverageIndex.open(tmp_path / "nowhere")


def test_index_built_with_another_model_refuses_to_open(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    other = small_corpus.parent / "other-model"
    other.mkdir()
    with pytest.raises(IndexMismatchError, match="Rebuild it: coverage-search build --model"):
        CoverageIndex.open(index_dir, model=str(other))


@pytest.mark.slow
def test_an_index_remembers_its_backend_and_queries_through_it(
    small_corpus: Path, embedder
) -> None:
    index_dir = small_corpus.parent / "index"
    first = CoverageIndex.build(small_corpus, index_dir, backend="torch", progress=False)
    index = CoverageIndex.open(index_dir)
    assert index.stats().backend == "torch" and index.embedder.backend == "torch"
    torch_top = index.search("Why did Dario Amodei leave OpenAI?", k=1, mode="semantic")[0]
    write_doc(small_corpus, "new.md", "# A new story\n\nClaude gets a new model.", outlet="X")
    again = CoverageIndex.build(small_corpus, index_dir, progress=False)  # no backend given
    assert again.embedded < first.passages and again.embedded > 0  # still torch: nothing redone
    switched = CoverageIndex.build(small_corpus, index_dir, backend="onnx-int8", progress=False)
    assert switched.embedded == switched.passages  # int8 vectors are never torch's cached ones
    index = CoverageIndex.open(index_dir)
    assert index.stats().backend == "onnx-int8"
    int8_top = index.search("Why did Dario Amodei leave OpenAI?", k=1, mode="semantic")[0]
    assert int8_top.passage_id and int8_top.doc_id == torch_top.doc_id


def test_an_index_from_before_backends_were_recorded_stays_on_torch(
    small_corpus: Path, embedder
) -> None:
    index_dir = small_corpus.parent / "index"
    CoverageIndex.build(small_corpus, index_dir, backend="torch", progress=False)
    build = layout.live_build(index_dir)
    assert build is not None
    manifest = json.loads((build / layout.MANIFEST).read_text())
    del manifest["backend"]
    (build / layout.MANIFEST).write_text(json.dumps(manifest))
    assert CoverageIndex.open(index_dir).embedder.backend == "torch"
    write_doc(small_corpus, "new.md", "# A new story\n\nClaude gets a new model.", outlet="X")
    report = CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert 0 < report.embedded < report.passages  # `add` does not re-embed everything
    assert CoverageIndex.open(index_dir).stats().backend == "torch"


def test_index_from_a_newer_format_refuses_to_open(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    build = layout.live_build(index_dir)
    assert build is not None
    manifest = json.loads((build / layout.MANIFEST).read_text())
    manifest["format_version"] = layout.FORMAT_VERSION + 1
    (build / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="newer coverage-search"):
        CoverageIndex.open(index_dir)


def test_damaged_index_says_to_rebuild(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    build = layout.live_build(index_dir)
    assert build is not None
    (build / VECTORS).write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="coverage-search build"):
        CoverageIndex.open(index_dir)
    (index_dir / layout.CURRENT).write_text("build-missing\n")
    with pytest.raises(IndexCorruptError, match="coverage-search build"):
        CoverageIndex.open(index_dir)


def test_search_is_safe_from_many_threads(small_index: CoverageIndex) -> None:
    expected = [h.passage_id for h in small_index.search("Anthropic tokenized shares", k=3)]
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                results.append(
                    [h.passage_id for h in small_index.search("Anthropic tokenized shares", k=3)]
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 30 and all(r == expected for r in results)


def test_import_does_not_load_torch() -> None:
    import subprocess
    import sys

    code = "import sys, coverage_search; print('torch' in sys.modules, 'faiss' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_seed_article_is_in_the_repo_corpus_unchanged() -> None:
    shared = SHARED_EVAL.parent / "corpus" / SEED_ARTICLE.name
    if not shared.exists():
        pytest.skip("../shared/corpus is not beside the repo")
    assert SEED_ARTICLE.read_bytes() == shared.read_bytes()


def test_front_matter_outlet_default_comes_from_url(tmp_path: Path, build_index) -> None:
    corpus = tmp_path / "corpus"
    write_doc(
        corpus, "a.md", "# Title\n\nSome text about Claude models.", url="https://www.fortune.com/x"
    )
    index = CoverageIndex.open(build_index(corpus))
    assert index.search("Claude models", k=1)[0].outlet == "fortune.com"


def test_pdf_and_html_documents_are_searchable_with_page_and_url_links(
    tmp_path: Path, build_index
) -> None:
    from pdfutil import write_minimal_pdf

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_minimal_pdf(
        corpus / "report.pdf",
        ["Quarterly report on cloud revenue.", "Anthropic signed a compute deal with Google."],
        info={"Title": "Compute report", "Author": "Analyst Desk"},
    )
    (corpus / "report.pdf.yml").write_text("url: https://example.com/report.pdf\noutlet: Reuters\n")
    (corpus / "page.html").write_text(
        "<html><head><title>OpenAI restructures</title>"
        '<link rel="canonical" href="https://techcrunch.example/openai-restructure">'
        '<meta property="og:site_name" content="TechCrunch">'
        '<meta property="article:published_time" content="2026-03-04"></head>'
        "<body><nav>Home | About</nav><article><h1>OpenAI restructures</h1>"
        "<p>OpenAI announced a new public benefit corporation structure for its for-profit arm, "
        "keeping the nonprofit board in control of the company's mission.</p></article>"
        "</body></html>",
        encoding="utf-8",
    )
    index = CoverageIndex.open(build_index(corpus))
    pdf_hit = index.search("Anthropic compute deal with Google", k=1)[0]
    assert pdf_hit.doc_id == "report.pdf" and pdf_hit.page == 2
    assert pdf_hit.link == "https://example.com/report.pdf#page=2"
    assert pdf_hit.outlet == "Reuters" and pdf_hit.author == "Analyst Desk"
    html_hit = index.search("public benefit corporation nonprofit board", k=1)[0]
    assert html_hit.doc_id == "page.html" and html_hit.outlet == "TechCrunch"
    assert html_hit.published == "2026-03-04"
    assert html_hit.link.startswith("https://techcrunch.example/openai-restructure#:~:text=")
    assert "Home | About" not in html_hit.text


def test_filter_on_an_exact_copy_finds_it_through_the_first_copy(
    small_corpus: Path, build_index
) -> None:
    original = (small_corpus / "anthropic-tokens.md").read_text()
    (small_corpus / "zz-wire-copy.md").write_text(
        original.replace("Crypto Briefing", "Wire Desk").replace(
            "example.com/tokens", "wire.example/t"
        )
    )
    index = CoverageIndex.open(build_index(small_corpus))
    assert (
        index.stats().passages == CoverageIndex.open(small_corpus.parent / "index").stats().passages
    )
    for mode in ("hybrid", "semantic", "keyword"):
        hits = index.search("tokenized shares void", outlets=["Wire Desk"], mode=mode, k=3)
        assert hits and {h.doc_id for h in hits} == {"zz-wire-copy.md"}, mode
        assert hits[0].outlet == "Wire Desk" and hits[0].link.startswith("https://wire.example/t#")
    unfiltered = index.search("tokenized shares void", k=1)[0]
    assert unfiltered.doc_id == "anthropic-tokens.md"
    assert [c.outlet for c in unfiltered.also_in] == ["Wire Desk"]


def test_a_broken_current_file_is_repaired_by_the_next_build(
    small_corpus: Path, build_index
) -> None:
    index_dir = build_index(small_corpus)
    (index_dir / layout.CURRENT).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(IndexCorruptError, match="Run: coverage-search build"):
        CoverageIndex.open(index_dir)
    CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert CoverageIndex.open(index_dir).search("tomato sauce", k=1)[0].doc_id == "cooking.md"


def test_a_manifest_that_is_not_an_object_is_reported_as_damage(
    small_corpus: Path, build_index
) -> None:
    index_dir = build_index(small_corpus)
    build = layout.live_build(index_dir)
    assert build is not None
    (build / layout.MANIFEST).write_text("[1, 2, 3]")
    with pytest.raises(IndexCorruptError, match="damaged"):
        CoverageIndex.open(index_dir)


def test_an_index_path_that_is_a_file_is_one_clear_error(small_corpus: Path, embedder) -> None:
    target = small_corpus.parent / "index-file"
    target.write_text("not a folder")
    with pytest.raises(IndexCorruptError, match="is a file, not an index folder"):
        CoverageIndex.build(small_corpus, target, progress=False)
    assert target.read_text() == "not a folder"


def test_api_arguments_of_the_wrong_type_are_query_errors(small_index: CoverageIndex) -> None:
    from datetime import datetime

    hits = small_index.search("Anthropic", since=datetime(2026, 6, 1, 12, 30), k=10)
    assert {h.doc_id for h in hits} == {"openai-exit.md", "elpais.md"}
    with pytest.raises(QueryError, match="language"):
        small_index.search("Anthropic", language=5)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="outlets"):
        small_index.search("Anthropic", outlets=5)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="alpha"):
        small_index.search("Anthropic", alpha=2.0)


def test_context_of_a_hit_shown_through_its_exact_copy_is_never_garbled(
    tmp_path: Path, build_index
) -> None:
    body = (
        "# Token warning\n\nAnthropic said unauthorized transfers of tokenized shares are void. "
        "Traders had bought synthetic exposure on Solana.\n\nA second paragraph follows here."
    )
    corpus = tmp_path / "corpus"
    write_doc(corpus, "orig.md", body, title="Token warning", outlet="Alpha Wire")
    copy = body.upper().replace("WARNING", "WARNING!!!")
    write_doc(corpus, "copy.md", copy, title="Token warning", outlet="Beta News")
    index = CoverageIndex.open(build_index(corpus))
    # copy.md sorts first, so it is the one indexed; orig.md is shown through its passages.
    hits = index.search("tokenized shares void", outlets=["Alpha Wire"], k=3)
    assert hits and all(h.doc_id == "orig.md" for h in hits)
    orig_text = index.document("orig.md").text  # type: ignore[union-attr]
    for hit in hits:
        before, passage, after = index.passage_context(hit)
        assert passage == hit.text  # never the copy's text cut at the wrong offsets
        assert (before + passage + after) in orig_text or (before, after) == ("", "")
    unfiltered = index.search("tokenized shares void", k=1)[0]
    before, passage, after = index.passage_context(unfiltered)
    assert passage == unfiltered.text
    assert "second paragraph" in (before + passage + after).lower()
