"""Inputs that used to end in "unexpected X … (set COVERAGE_SEARCH_DEBUG=1)": each is now one
named sentence (found by a hostile pass over the CLI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_support import (
    assert_damage_message,
    assert_one_line_error,
    build_corpus,
    cli,
    live_build,
    subprocess_env,
)

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("odd-inputs"))


def test_a_manifest_nested_too_deeply_is_damage(built: dict[str, Path], tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(built["index"], index)
    (live_build(index) / "manifest.json").write_text(DEEP, encoding="utf-8")
    assert_damage_message(*cli("search", "Amodei", "--index", index)[::2])


@pytest.mark.parametrize(
    "line", [DEEP, '{"question": "Who?", "answer_span": "x", "n": ' + HUGE + "}"]
)
def test_a_qa_line_too_deep_or_too_long_a_number_is_one_line(
    built: dict[str, Path], line: str
) -> None:
    qa = built["root"] / "qa.jsonl"
    qa.write_text(line + "\n", encoding="utf-8")
    code, _out, err = cli("eval", "--qa", qa, "--index", built["index"], "--quiet")
    assert len(assert_one_line_error(code, err, codes=(1, 2))) < 300


def test_a_qrels_score_too_long_is_shown_cut(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text(json.dumps({"_id": "d", "text": "x"}) + "\n")
    (tmp_path / "q.jsonl").write_text(json.dumps({"_id": "q", "text": "x"}) + "\n")
    (tmp_path / "r.tsv").write_text(f"q\td\t{HUGE}x\n")
    argv = ["eval", "--corpus", tmp_path / "c.jsonl", "--queries", tmp_path / "q.jsonl"]
    code, _out, err = cli(*argv, "--qrels", tmp_path / "r.tsv", "--quiet")
    assert len(assert_one_line_error(code, err, codes=(1, 2))) < 300


def test_an_index_name_that_is_not_utf8_is_one_line(built: dict[str, Path], tmp_path: Path) -> None:
    index = Path(os.fsdecode(os.fsencode(tmp_path) + b"/\xff\xfeidx"))
    code, _out, err = cli("build", "--corpus", built["corpus"], "--index", index, "--quiet")
    assert "not UTF-8" in assert_one_line_error(code, err)


def test_output_to_a_full_device_is_one_line(built: dict[str, Path]) -> None:
    argv = [sys.executable, "-m", "coverage_search", "search", "Amodei", "--index", built["index"]]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            argv, stdout=full, stderr=subprocess.PIPE, env=subprocess_env(), timeout=120
        )
    assert "no space left" in assert_one_line_error(done.returncode, done.stderr.decode())


def test_a_database_on_a_full_disk_is_one_line(
    built: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from coverage_search.api import CoverageIndex

    def full(*_: object, **__: object) -> None:  # what SQLite says when a write finds no space
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(CoverageIndex, "build", full)
    code, _out, err = cli("build", "--corpus", built["corpus"], "--index", built["index"])
    assert "no space left" in assert_one_line_error(code, err)


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) makes file modes apply to root")
@pytest.mark.parametrize("what", ["a read-only embedding cache", "a read-only parent folder"])
def test_what_a_build_cannot_write_is_one_line(
    built: dict[str, Path], tmp_path: Path, what: str
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(built["corpus"], corpus)
    (corpus / "new.md").write_text("# New\n\nA new story about read-only folders.\n")
    if what == "a read-only embedding cache":
        index = tmp_path / "index"
        shutil.copytree(built["index"], index)
        (index / "embeddings.sqlite").chmod(0o444)
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        index = tmp_path / "ro" / "index"
    argv = [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", sys.executable]
    argv += [
        "-m",
        "coverage_search",
        "build",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        "--quiet",
    ]
    done = subprocess.run(argv, capture_output=True, env=subprocess_env(), timeout=300)
    text = assert_one_line_error(done.returncode, done.stderr.decode())
    assert "writ" in text


@pytest.mark.parametrize(("key", "value"), [("backend", "nope"), ("engine", "evil")])
def test_a_manifest_naming_an_unknown_backend_or_engine_is_damage_a_build_repairs(
    built: dict[str, Path], tmp_path: Path, key: str, value: str
) -> None:
    index = tmp_path / "index"
    shutil.copytree(built["index"], index)
    manifest = live_build(index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data[key] = value
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert_damage_message(*cli("search", "Amodei", "--index", index)[::2])
    code, _out, err = cli("build", "--corpus", built["corpus"], "--index", index, "--quiet")
    assert code == 0, err
    assert cli("search", "Amodei", "--index", index)[0] == 0


@pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) makes file modes apply to root")
def test_a_read_only_index_says_so(built: dict[str, Path], tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(built["index"], index)
    for lock in index.rglob(".tantivy-*.lock"):
        lock.unlink()  # a fresh copy, as a read-only mount would hold it
    for path in [index, *index.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        for verb in (["search", "Amodei"], ["build", "--corpus", str(built["corpus"]), "--quiet"]):
            argv = [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", sys.executable]
            argv += ["-m", "coverage_search", *verb, "--index", str(index)]
            done = subprocess.run(argv, capture_output=True, env=subprocess_env(), timeout=300)
            assert "writable" in assert_one_line_error(done.returncode, done.stderr.decode())
    finally:
        for path in [index, *index.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
