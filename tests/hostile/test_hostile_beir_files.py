"""BEIR files whose ids match but hold nothing to score: the message names what is missing.

A queries file keyed "query" instead of "text" (or all blank), and a qrels file that judges no
document relevant (every score 0, or no line at all), both said "No query in queries.jsonl has a
relevant document in qrels.tsv. Check that the ids match." -- the ids did match.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_support import assert_one_line_error, cli

CASES = {
    "queries keyed query": ({"_id": "q1", "query": "Why did Amodei leave?"}, "q1\td1\t1\n",
                            'has text. Give each query a "text"'),
    "queries blank": ({"_id": "q1", "text": "  "}, "q1\td1\t1\n", "has text"),
    "scores all zero": ({"_id": "q1", "text": "Amodei"}, "q1\td1\t0\n", "judges no document"),
    "qrels empty": ({"_id": "q1", "text": "Amodei"}, "query-id\tcorpus-id\tscore\n",
                    "judges no document"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_nothing_to_score_is_named_not_blamed_on_the_ids(tmp_path: Path, case: str) -> None:
    query, qrels, expected = CASES[case]
    doc = {"_id": "d1", "title": "Exit", "text": "Dario Amodei left OpenAI in December 2020."}
    (tmp_path / "corpus.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text(json.dumps(query) + "\n", encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text(qrels, encoding="utf-8")
    files = ("--corpus", "corpus.jsonl", "--queries", "queries.jsonl", "--qrels", "qrels.tsv")
    code, _out, err = cli("eval", *(f if f.startswith("--") else tmp_path / f for f in files))
    text = assert_one_line_error(code, err)
    assert expected in text and "ids match" not in text, text
