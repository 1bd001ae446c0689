"""--index pointing at one build inside an index (index/build-…, the folder that holds
manifest.json), a slip of tab completion: search said "No index at index/build-…. Run:
coverage-search build", and that build then made a second index nested inside the live build.
Now every verb names the index folder to give instead, and nothing is written or changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import (
    assert_one_line_error,
    build_corpus,
    cli,
    corpus_documents,
    keyword_doc_ids,
    live_build,
)

VERBS = {
    "search": ["search", "Amodei"],
    "stats": ["stats"],
    "build": ["build", "--quiet"],
    "add": ["add", "--quiet"],  # the file to add is appended
    "remove": ["remove", "cooking.md", "--quiet"],
}


def verb_argv(verb: str, index: Path, corpus: Path, tmp_path: Path) -> list[str]:
    """The verb's arguments with --index `index`, and the corpus and file it needs."""
    argv = [*VERBS[verb], "--index", str(index)]
    if verb in ("build", "add", "remove"):
        argv += ["--corpus", str(corpus)]
    if verb == "add":
        note = tmp_path / "note.txt"
        note.write_text("A note about wombats and their burrows.", encoding="utf-8")
        argv.append(str(note))
    return argv


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("build-folder"))


@pytest.mark.parametrize("verb", list(VERBS))
def test_a_build_folder_given_as_the_index_names_the_index(
    built: dict[str, Path], tmp_path: Path, verb: str
) -> None:
    build = live_build(built["index"])
    before_build = sorted(p.name for p in build.iterdir())
    before_corpus = corpus_documents(built["corpus"])
    argv = verb_argv(verb, build, built["corpus"], tmp_path)
    text = assert_one_line_error(*cli(*argv)[::2])
    assert "one build of the index at" in text and str(built["index"]) in text, text
    assert sorted(p.name for p in build.iterdir()) == before_build  # no index nested in it
    assert corpus_documents(built["corpus"]) == before_corpus  # the corpus is as it was
    assert keyword_doc_ids(built["index"], "tomatoes") == ["cooking.md"]


@pytest.mark.parametrize("verb", list(VERBS))
def test_an_index_that_is_a_symlink_loop_is_one_line(
    built: dict[str, Path], tmp_path: Path, verb: str
) -> None:
    # resolve() raised RuntimeError ("Symlink loop") out of every verb that checks for a build
    loop = tmp_path / "index"
    loop.symlink_to(loop)
    argv = verb_argv(verb, loop, built["corpus"], tmp_path)
    before_corpus = corpus_documents(built["corpus"])
    text = assert_one_line_error(*cli(*argv)[::2], codes=(1, 2))
    assert "leads back to itself" in text, text
    assert loop.is_symlink()  # nothing replaced the link
    assert corpus_documents(built["corpus"]) == before_corpus


def test_a_corpus_loop_a_loop_above_the_index_and_a_dangling_index_link_are_one_line(
    built: dict[str, Path], tmp_path: Path
) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone" / "index")
    cases = {
        "corpus loop": (["--corpus", str(loop), "--index", str(tmp_path / "i")], "back to itself"),
        "loop above": (["--corpus", str(built["corpus"]), "--index", str(loop / "sub")], "back"),
        "dangling": (["--corpus", str(built["corpus"]), "--index", str(dangling)], "leads to no"),
    }
    for label, (argv, said) in cases.items():
        text = assert_one_line_error(*cli("build", "--quiet", *argv)[::2], codes=(1, 2))
        assert said in text, (label, text)
    assert (
        dangling.is_symlink() and not (tmp_path / "gone").exists() and not (tmp_path / "i").exists()
    )
