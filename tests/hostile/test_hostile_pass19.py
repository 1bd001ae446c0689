"""Hostile pass 19: inputs the earlier passes missed.

`remove a.md ./a.md` deleted a.md, then said the second name matched no document and exited 1.
"""

from __future__ import annotations

from pathlib import Path

from hostile_support import (
    build_corpus,
    cli,
    corpus_documents,
    keyword_doc_ids,
)


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
