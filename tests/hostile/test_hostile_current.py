"""index/CURRENT that is not a one-line file: build rebuilds, search says one sentence.

`build` must never crash on a CURRENT that is a folder (empty or not) or a FIFO (reading one
would block forever): it rebuilds, or says one clear sentence. `search` says one sentence with
what to run. FIFO cases run as processes with a timeout, so a hang fails instead of stalling.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_support import (
    assert_damage_message,
    assert_one_line_error,
    cli,
    keyword_doc_ids,
    make_corpus,
    run_module,
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("current")
    corpus = make_corpus(root / "corpus")
    code, _out, err = cli("build", "--corpus", corpus, "--index", root / "index", "--quiet")
    assert code == 0, err
    return {"corpus": corpus, "index": root / "index"}


def _as_empty_folder(current: Path) -> None:
    current.unlink()
    current.mkdir()


def _as_full_folder(current: Path) -> None:
    name = current.read_text(encoding="utf-8")
    current.unlink()
    current.mkdir()
    (current / "CURRENT").write_text(name, encoding="utf-8")


def _as_link_to_folder(current: Path) -> None:
    current.unlink()
    (current.parent / "elsewhere").mkdir()
    current.symlink_to("elsewhere", target_is_directory=True)


SHAPES: dict[str, Callable[[Path], None]] = {
    "empty-folder": _as_empty_folder,
    "folder-with-files": _as_full_folder,
    "link-to-a-folder": _as_link_to_folder,
}


def _damaged(pristine: dict[str, Path], tmp_path: Path, shape: str) -> Path:
    index = tmp_path / "index"
    shutil.copytree(pristine["index"], index, symlinks=True)
    SHAPES[shape](index / "CURRENT")
    return index


@pytest.mark.parametrize("shape", list(SHAPES))
def test_build_with_current_not_a_file_rebuilds(
    pristine: dict[str, Path], tmp_path: Path, shape: str
) -> None:
    """CURRENT is a folder: `build` rebuilds (exit 0, searchable) or says one clear sentence."""
    index = _damaged(pristine, tmp_path, shape)
    code, _out, err = cli("build", "--corpus", pristine["corpus"], "--index", index, "--quiet")
    if code != 0:
        assert_one_line_error(code, err)
        return
    assert keyword_doc_ids(index, "tomatoes garlic") == ["cooking.md"]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_search_with_current_not_a_file_is_one_sentence(
    pristine: dict[str, Path], tmp_path: Path, shape: str
) -> None:
    """CURRENT is a folder: `search` exits 1 with one line naming the problem and the fix."""
    index = _damaged(pristine, tmp_path, shape)
    code, _out, err = cli("search", "tomatoes", "--index", index)
    assert_damage_message(code, err)


def _fifo_index(pristine: dict[str, Path], tmp_path: Path) -> Path:
    index = tmp_path / "index"
    shutil.copytree(pristine["index"], index)
    (index / "CURRENT").unlink()
    os.mkfifo(index / "CURRENT")
    return index


def _run_bounded(args: list[str]) -> Any:
    try:
        return run_module(args, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`coverage-search {args[0]}` hung on a CURRENT that is a FIFO")


@pytest.mark.slow
def test_search_with_current_a_fifo_does_not_hang(
    pristine: dict[str, Path], tmp_path: Path
) -> None:
    """CURRENT is a FIFO: `search` answers at once with one sentence (no blocking read)."""
    index = _fifo_index(pristine, tmp_path)
    done = _run_bounded(["search", "tomatoes", "--index", str(index)])
    assert_damage_message(done.returncode, done.stderr.decode(errors="replace"))


@pytest.mark.slow
def test_build_with_current_a_fifo_does_not_hang(pristine: dict[str, Path], tmp_path: Path) -> None:
    """CURRENT is a FIFO: `build` rebuilds or says one sentence, without blocking."""
    index = _fifo_index(pristine, tmp_path)
    done = _run_bounded(
        ["build", "--corpus", str(pristine["corpus"]), "--index", str(index), "--quiet"]
    )
    if done.returncode != 0:
        assert_one_line_error(done.returncode, done.stderr.decode(errors="replace"))
