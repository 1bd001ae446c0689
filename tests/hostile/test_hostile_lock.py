"""`add` / `remove` while another build holds the lock: corpus/ and the index end up agreeing.

The lock is held exactly as a build holds it: flock(LOCK_EX) on index/.build.lock, on a
descriptor of our own (a safety timer lets go after 2 s, so a product that waits for the lock
with a bound is not deadlocked). Any of these is acceptable: wait for the lock, roll the
corpus change back, or have the next command repair. What is checked is the END STATE after
"retry the same command once the lock is free", and after a plain `coverage-search build`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import (
    cli,
    corpus_documents,
    held_build_lock,
    indexed_document_count,
    keyword_doc_ids,
    make_corpus,
)

from http_fixture import Route, Site, article_html, serve

NEW_WORD = "capybarazeta"


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    code, out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, (out, err)
    return corpus, index


def _new_file(tmp_path: Path) -> Path:
    path = tmp_path / "incoming" / "capybara-news.md"
    path.parent.mkdir()
    path.write_text(
        "---\ntitle: Capybaras take over the campus\noutlet: Rodent Times\n---\n\n"
        f"# Capybaras take over the campus\n\nA {NEW_WORD} herd grazed on the lawn all week.\n",
        encoding="utf-8",
    )
    return path


def _assert_in_step(corpus: Path, index: Path) -> None:
    assert indexed_document_count(index) == len(corpus_documents(corpus)), (
        f"index holds {indexed_document_count(index)} documents, corpus/ holds "
        f"{corpus_documents(corpus)}"
    )


def test_add_during_a_build_then_retrying_the_add_makes_it_searchable(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """`add FILE` while locked, then the same `add FILE` once free: FILE is searchable."""
    corpus, index = built
    new = _new_file(tmp_path)
    with held_build_lock(index):
        cli("add", new, "--corpus", corpus, "--index", index, "--quiet")
    _code, out, err = cli("add", new, "--corpus", corpus, "--index", index, "--quiet")
    assert "unexpected" not in err.lower(), err
    assert keyword_doc_ids(index, NEW_WORD), (
        f"the added document is in corpus/ but not searchable after the retry: {out!r} {err!r}"
    )
    _assert_in_step(corpus, index)


def test_add_during_a_build_then_plain_build_makes_it_searchable(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """`add FILE` while locked, then `coverage-search build` (no --force): FILE is searchable."""
    corpus, index = built
    new = _new_file(tmp_path)
    with held_build_lock(index):
        cli("add", new, "--corpus", corpus, "--index", index, "--quiet")
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    in_corpus = any(NEW_WORD in (corpus / d).read_text() for d in corpus_documents(corpus))
    assert bool(keyword_doc_ids(index, NEW_WORD)) == in_corpus
    _assert_in_step(corpus, index)


def test_remove_during_a_build_then_retrying_the_remove_unlists_it(
    built: tuple[Path, Path],
) -> None:
    """`remove cooking.md` while locked, then again once free: it is not searchable any more."""
    corpus, index = built
    assert "cooking.md" in keyword_doc_ids(index, "tomatoes garlic")
    with held_build_lock(index):
        cli("remove", "cooking.md", "--corpus", corpus, "--index", index, "--quiet")
    _code, _out, err = cli("remove", "cooking.md", "--corpus", corpus, "--index", index, "--quiet")
    assert "unexpected" not in err.lower(), err
    assert not (corpus / "cooking.md").exists()
    assert "cooking.md" not in keyword_doc_ids(index, "tomatoes garlic"), (
        f"cooking.md is gone from corpus/ but still searchable after the retry: {err!r}"
    )
    _assert_in_step(corpus, index)


def test_remove_during_a_build_then_plain_build_unlists_it(built: tuple[Path, Path]) -> None:
    """`remove cooking.md` while locked, then `coverage-search build`: index and corpus agree."""
    corpus, index = built
    with held_build_lock(index):
        cli("remove", "cooking.md", "--corpus", corpus, "--index", index, "--quiet")
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    searchable = "cooking.md" in keyword_doc_ids(index, "tomatoes garlic")
    assert searchable == (corpus / "cooking.md").exists()
    _assert_in_step(corpus, index)


def test_add_url_during_a_build_then_retrying_makes_it_searchable(
    built: tuple[Path, Path],
) -> None:
    """`add URL` (127.0.0.1) while locked, then the same `add URL`: the article is searchable."""
    corpus, index = built
    page = article_html(
        "Capybaras take over the campus",
        [
            f"A {NEW_WORD} herd grazed on the university lawn all week, and students said the "
            "animals were calmer than the exam season. Groundskeepers counted twelve adults.",
            "The herd left on Friday, heading for the river, a spokesperson for the campus said.",
        ],
        site_name="Rodent Times",
    ).encode()
    with serve(Site()) as site:
        site.routes["/capybara.html"] = Route(page)
        url = site.url("/capybara.html")
        with held_build_lock(index):
            cli("add", url, "--corpus", corpus, "--index", index, "--quiet")
        _code, out, err = cli("add", url, "--corpus", corpus, "--index", index, "--quiet")
    assert "unexpected" not in err.lower(), err
    assert keyword_doc_ids(index, NEW_WORD), f"not searchable after the retry: {out!r} {err!r}"
    _assert_in_step(corpus, index)


def test_add_during_a_build_then_another_add_indexes_both(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """A pending (locked-out) add is indexed by the next `add` of something else."""
    corpus, index = built
    new = _new_file(tmp_path)
    other = tmp_path / "incoming" / "okapi.md"
    other.write_text("# Okapi sighting\n\nAn okapiwordnu was seen near the river.\n")
    with held_build_lock(index):
        cli("add", new, "--corpus", corpus, "--index", index, "--quiet")
    code, _out, err = cli("add", other, "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    assert keyword_doc_ids(index, "okapiwordnu")
    in_corpus = any(NEW_WORD in (corpus / d).read_text() for d in corpus_documents(corpus))
    assert bool(keyword_doc_ids(index, NEW_WORD)) == in_corpus
    _assert_in_step(corpus, index)
