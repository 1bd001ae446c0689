"""Folders given the wrong way round: never a hang, never a lost file, never a swapped index.

Found by a hostile pass: a model folder without tokenizer.json deadlocked the build on its own
lock; `eval --keep-index K` swept the *.md files of a K-corpus folder the user had made; the
same folder given as corpus and index replaced the live index; BEIR ids starting with "." were
written as hidden files the scanner skips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile_support import (
    assert_one_line_error,
    build_corpus,
    cli,
    keyword_doc_ids,
    make_corpus,
    run_module,
)

from pdfutil import write_minimal_pdf


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("folders"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_model_folder_without_a_tokenizer_is_one_line_not_a_hang(tmp_path: Path) -> None:
    empty = tmp_path / "model"
    empty.mkdir()
    corpus = make_corpus(tmp_path / "corpus")
    done = run_module(
        ["build", "--corpus", corpus, "--index", tmp_path / "index", "--model", empty, "--quiet"],
        timeout=180,  # the deadlock never returned
    )
    text = assert_one_line_error(done.returncode, done.stderr.decode())
    assert "Cannot load embedding model" in text


@pytest.mark.parametrize("layout", ["same", "index inside corpus", "corpus inside index"])
def test_corpus_and_index_must_be_apart(built: dict[str, Path], layout: str) -> None:
    before = _snapshot(built["index"])
    corpus, index = {
        "same": (built["index"], built["index"]),
        "index inside corpus": (built["corpus"], built["corpus"] / "index"),
        "corpus inside index": (built["index"] / "notes", built["index"]),
    }[layout]
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert "must be apart" in assert_one_line_error(code, err)
    assert _snapshot(built["index"]) == before
    assert not (built["corpus"] / "index").exists()


def test_a_hidden_index_inside_the_corpus_is_fine(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    code, _out, err = cli("build", "--corpus", corpus, "--index", corpus / ".index", "--quiet")
    assert code == 0 and "skipped 0 files" in err + _out, err
    assert cli("search", "Amodei", "--index", corpus / ".index")[0] == 0


def _qa_files(root: Path) -> tuple[Path, Path]:
    corpus = root / "c.jsonl"
    rows = [
        {"_id": "a", "title": "Tokens", "text": "Anthropic said the tokens would be void."},
        {"_id": ".", "title": "Dot", "text": "A document whose id is one dot."},
        {"_id": "..", "title": "Dots", "text": "A document whose id is two dots."},
        {"_id": "../../tmp/evil", "title": "Path", "text": "A document whose id is a path."},
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    qa = root / "qa.jsonl"
    qa.write_text(
        json.dumps({"question": "What would the tokens be?", "answer_span": "would be void"})
        + "\n",
        encoding="utf-8",
    )
    return corpus, qa


def test_keep_index_never_sweeps_a_folder_eval_did_not_write(tmp_path: Path) -> None:
    corpus, qa = _qa_files(tmp_path)
    mine = tmp_path / "K-corpus"
    mine.mkdir()
    (mine / "notes.md").write_text("# my notes\n", encoding="utf-8")
    code, _out, err = cli(
        "eval", "--qa", qa, "--corpus", corpus, "--keep-index", tmp_path / "K", "--quiet"
    )
    assert "did not write" in assert_one_line_error(code, err, codes=(1, 2))
    assert (mine / "notes.md").read_text(encoding="utf-8") == "# my notes\n"


def test_keep_index_never_takes_over_a_live_index(built: dict[str, Path], tmp_path: Path) -> None:
    corpus, qa = _qa_files(tmp_path)
    before = _snapshot(built["index"])
    code, _out, err = cli(
        "eval", "--qa", qa, "--corpus", corpus, "--keep-index", built["index"], "--quiet"
    )
    assert "did not write" in assert_one_line_error(code, err, codes=(1, 2))
    assert _snapshot(built["index"]) == before


def test_eval_keeps_documents_whose_ids_look_like_paths(tmp_path: Path) -> None:
    corpus, qa = _qa_files(tmp_path)
    keep = tmp_path / "K"
    argv = ("eval", "--qa", qa, "--corpus", corpus, "--keep-index", keep, "--json", "--quiet")
    code, out, err = cli(*argv)
    assert code == 0, err
    assert json.loads(out)["documents"] == 4  # none written as a hidden file and skipped
    assert not (tmp_path.parent / "tmp").exists()
    code, out, err = cli(*argv)  # a folder an earlier eval wrote is reused
    assert code == 0, err
    assert json.loads(out)["documents"] == 4
    (keep / ".coverage-search-eval").unlink()  # as an eval before the mark existed left it
    (tmp_path / "K-corpus" / ".coverage-search-eval").unlink()
    code, out, err = cli(*argv)
    assert code == 0, err
    beir = ["eval", "--corpus", corpus, "--queries", tmp_path / "q.jsonl", "--qrels"]
    (tmp_path / "q.jsonl").write_text(json.dumps({"_id": "q", "text": "tokens void"}) + "\n")
    (tmp_path / "r.tsv").write_text("q\ta\t1\n")
    for _ in range(2):  # BEIR eval's corpus is temporary: its kept index is still its own
        code, out, err = cli(*beir, tmp_path / "r.tsv", "--keep-index", tmp_path / "B", "--quiet")
        assert code == 0, err
    (tmp_path / "B" / ".coverage-search-eval").unlink()
    code, out, err = cli(*beir, tmp_path / "r.tsv", "--keep-index", tmp_path / "B", "--quiet")
    assert code == 0, err


def test_build_never_sweeps_folders_it_did_not_make(built: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    index = tmp_path / "index"
    shutil.copytree(built["index"], index)
    tools = index / "build-tools"
    tools.mkdir()
    (tools / "important.sh").write_text("x\n", encoding="utf-8")
    code, _out, err = cli("build", "--corpus", built["corpus"], "--index", index, "--force")
    assert code == 0, err
    assert (tools / "important.sh").read_text(encoding="utf-8") == "x\n"
    current = index / "CURRENT"
    current.unlink()
    current.mkdir()
    (current / "notes.txt").write_text("y\n", encoding="utf-8")
    code, _out, err = cli("build", "--corpus", built["corpus"], "--index", index, "--quiet")
    assert "move it out of the index folder" in assert_one_line_error(code, err)
    assert (current / "notes.txt").read_text(encoding="utf-8") == "y\n"


def _nest(top: Path, depth: int, name: str, text: str, *, letter: str = "d") -> None:
    """`depth` folders of 20 letters under `top` and a file at the bottom, made one level at a
    time (a path this long cannot be opened, or made, whole)."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(letter * 20, dir_fd=fd)
            inner = os.open(letter * 20, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, text.encode())
        os.close(out)
    finally:
        os.close(fd)


def test_a_path_too_long_to_open_is_skipped_with_a_notice(tmp_path: Path) -> None:
    """Folders nested past the system's 4,096-byte path limit stopped the whole build with
    "unexpected OSError: File name too long"; now that path is skipped, named, and the rest
    (the files above it too) is indexed."""
    corpus = make_corpus(tmp_path / "corpus")
    _nest(corpus, 250, "deep.md", "# Deep\n\nA deeply nested jabberwockyfar story.\n")
    _nest(corpus, 100, "near.md", "# Near\n\nA nested jabberwockynear story.\n", letter="n")
    index = tmp_path / "index"
    code, out, err = cli("build", "--corpus", corpus, "--index", index)
    assert code == 0, err
    assert "unexpected" not in err.lower()
    [line] = [line for line in (out + err).splitlines() if "too deep" in line]
    assert "nearer the top" in line, line
    assert keyword_doc_ids(index, "jabberwockynear"), "the file within the limit is indexed"
    assert keyword_doc_ids(index, "tomatoes garlic"), "the rest is indexed"
    write_minimal_pdf(tmp_path / "report.pdf", ["A report on bandersnatch tokens."])
    code, _out, err = cli("add", tmp_path / "report.pdf", "--corpus", corpus, "--index", index)
    assert code == 0, err  # its duplicate check listed the corpus with rglob, which raised
    assert keyword_doc_ids(index, "bandersnatch") == ["report.pdf"]
