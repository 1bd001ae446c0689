"""Hostile pass 19: inputs the earlier passes missed.

`remove a.md ./a.md` deleted a.md, then said the second name matched no document and exited 1.
A BEIR document holding a NUL was written as a file the scanner calls binary: the evaluation
left it out without a word.
"""

from __future__ import annotations

import json
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


def _beir(folder: Path, docs: list[dict[str, str]], queries: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    corpus, asked, judged = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels.tsv"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    asked.write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()),
        encoding="utf-8",
    )
    rows = [f"{q}\t{doc}\t1\n" for q, doc in zip(queries, (d["_id"] for d in docs), strict=False)]
    judged.write_text("query-id\tcorpus-id\tscore\n" + "".join(rows), encoding="utf-8")
    return [corpus, asked, judged]


def test_a_beir_document_holding_a_nul_is_indexed_not_left_out(tmp_path: Path) -> None:
    """The NUL went into the Markdown file, which the build skipped as binary data: the report
    said 1 document of 2 and scored the query that judged it as never finding it."""
    docs = [
        {"_id": "z1", "title": "Zebras", "text": "Zebras have black\u0000 and white stripes."},
        {"_id": "g1", "title": "Garlic\u0000", "text": "Garlic prices rose sharply in spring."},
    ]
    corpus, queries, qrels = _beir(tmp_path, docs, {"q1": "zebra stripes", "q2": "garlic prices"})
    argv = ("--corpus", corpus, "--queries", queries, "--qrels", qrels, "--mode", "keyword")
    code, out, err = cli("eval", *argv, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["documents"] == 2, report
    assert report["modes"][0]["recall_at_10"] == 1.0, report
