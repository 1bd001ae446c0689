"""Cases a review of the change found: each was a crash or a silent loss before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_support import cli, make_corpus


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("review")
    corpus = make_corpus(root / "corpus")
    index = root / "index"
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    return {"corpus": corpus, "index": index}


@pytest.mark.parametrize("option", ["-k", "--per-document"])
def test_a_huge_count_is_a_usage_error(built: dict[str, Path], option: str) -> None:
    code, _out, err = cli("search", "Amodei", option, str(10**18), "--index", built["index"])
    assert code == 2 and err.count("\n") == 1 and "unexpected" not in err


def test_the_api_refuses_a_huge_k(built: dict[str, Path]) -> None:
    from coverage_search import CoverageIndex, QueryError

    index = CoverageIndex.open(built["index"])
    try:
        with pytest.raises(QueryError):
            index.search("Amodei", k=10**18)
        assert len(index.search("Amodei", k=10_000, per_document=0)) >= 1
    finally:
        index.close()


@pytest.mark.parametrize("url", ["http://example.com:99999/a", "http://[::1/a", "http://a b/"])
def test_an_unparsable_link_is_compared_as_text(url: str) -> None:
    from coverage_search.ingest.catalog import canonical_url

    assert canonical_url(url) == url.strip()


@pytest.mark.parametrize(
    "content",
    ["[]", '{"feeds": ["x"]}', '"feeds"', "3"],
)
def test_a_feeds_file_of_the_wrong_shape_is_one_sentence(tmp_path: Path, content: str) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / ".feeds.json").write_text(content, encoding="utf-8")
    code, _out, err = cli("feeds", "--corpus", corpus)
    assert code == 1 and "is not a feeds file" in err and err.count("\n") == 1


def test_fields_of_the_wrong_type_in_a_feed_are_dropped(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    state = {"feeds": {"https://example.com/rss": {"seen": None, "title": 5, "attempts": []}}}
    (corpus / ".feeds.json").write_text(json.dumps(state), encoding="utf-8")
    code, out, err = cli("feeds", "--corpus", corpus, "--json")
    assert code == 0, err
    assert json.loads(out)[0]["url"] == "https://example.com/rss"


def test_a_sidecar_with_an_upper_case_suffix_is_read_and_removed_with_its_pdf(
    tmp_path: Path,
) -> None:
    from coverage_search import CoverageIndex
    from pdfutil import write_minimal_pdf

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_minimal_pdf(corpus / "report.pdf", ["A report on tokenized shares and their risks."])
    (corpus / "report.pdf.YML").write_text("title: Upper Case Sidecar\n", encoding="utf-8")
    code, _out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index", "--quiet")
    assert code == 0, err
    index = CoverageIndex.open(tmp_path / "index")
    assert index.document("report.pdf").title == "Upper Case Sidecar"  # type: ignore[union-attr]
    index.close()
    code, _out, err = cli(
        "remove", "report.pdf", "--corpus", corpus, "--index", tmp_path / "index", "--quiet"
    )
    assert code == 0, err
    assert not [p.name for p in corpus.iterdir() if not p.name.startswith(".")]
