"""The files the tool keeps in the corpus (.feeds.json, .watches.json and the locks) are opened
as carefully as corpus files: a pipe must not hang a command, a link to /dev/zero must not fill
memory, a link must not be followed out of the corpus (a lock once created files wherever its
link pointed), and JSON nested too deeply is one line, not "unexpected RecursionError".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_support import assert_one_line_error, run_module


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _passwd(path: Path) -> None:
    path.symlink_to("/etc/passwd")


def _deep(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


SHAPES: dict[str, Callable[[Path], None]] = {
    "a pipe": _fifo, "a link to /dev/zero": _zero, "a link out": _passwd, "JSON too deep": _deep,
}  # fmt: skip


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize(
    ("state", "argv"), [(".feeds.json", ["feeds"]), (".watches.json", ["watch", "list"])]
)
def test_a_hostile_state_file_is_one_line(
    tmp_path: Path, shape: str, state: str, argv: list[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    SHAPES[shape](corpus / state)
    try:
        done = run_module([*argv, "--corpus", corpus], timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(argv)}` hung on {state} as {shape}")
    text = assert_one_line_error(done.returncode, done.stderr.decode(errors="replace"))
    assert state in text and "root:" not in text


@pytest.mark.parametrize("argv", [["remove", "nothing.md"], ["watch", "add", "Anthropic IPO"]])
def test_a_lock_that_is_a_link_creates_nothing_outside(tmp_path: Path, argv: list[str]) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    for lock in (".coverage-search.lock", ".watches.lock"):
        (corpus / lock).symlink_to(outside / f"made-by{lock}")
    done = run_module([*argv, "--corpus", corpus, "--index", tmp_path / "index"], timeout=60)
    assert not list(outside.iterdir())
    if done.returncode:
        assert_one_line_error(done.returncode, done.stderr.decode(errors="replace"), codes=(1, 2))
