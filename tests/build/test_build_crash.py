"""A build that dies at any moment leaves the previous index live and answering as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_doc
from coverage_search import BuildLockedError, CoverageIndex
from coverage_search.build import layout
from coverage_search.engine.local.engine import DATABASE

QUESTION = "Why did Dario Amodei leave OpenAI?"


def _answers(index_dir: Path) -> list[tuple[str, int, int]]:
    index = CoverageIndex.open(index_dir)
    return [(h.doc_id, h.start, h.end) for h in index.search(QUESTION, k=5)]


def _grow(corpus: Path, n: int) -> None:
    for i in range(n):
        write_doc(
            corpus,
            f"extra/wire-{i:04d}.md",
            f"# Wire story {i}\n\n"
            + " ".join(f"Report {i} sentence {j} on AI chips and cloud deals." for j in range(40)),
            outlet="Wire",
            published="2026-07-01",
        )


@pytest.mark.slow
def test_killing_a_build_process_keeps_the_old_index(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    before = _answers(index_dir)
    live_before = layout.live_build(index_dir)
    _grow(small_corpus, 150)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coverage_search",
            "build",
            "--corpus",
            str(small_corpus),
            "--index",
            str(index_dir),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    seen = b""
    while b"Embedding" not in seen and time.monotonic() < deadline:  # wait until it is mid-way
        chunk = proc.stderr.read1(4096)
        if not chunk:
            break
        seen += chunk
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert b"Embedding" in seen, seen.decode(errors="replace")[-500:]
    assert layout.live_build(index_dir) == live_before
    assert _answers(index_dir) == before
    # The next build finishes the job, reusing what the killed one embedded, and tidies up.
    report = CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert report.documents == 154 and report.reused > 0
    leftovers = [p for p in index_dir.glob("build-*") if not (p / layout.MANIFEST).exists()]
    assert leftovers == []


def test_a_failure_while_writing_keeps_the_old_index(
    small_corpus: Path, build_index, monkeypatch
) -> None:
    index_dir = build_index(small_corpus)
    before = _answers(index_dir)
    write_doc(small_corpus, "new.md", "# New\n\nA brand new story about Claude.", outlet="Axios")
    from coverage_search.engine.local import vectors

    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vectors.VectorIndex, "save", disk_full)
    with pytest.raises(OSError):
        CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert _answers(index_dir) == before
    assert len(list(index_dir.glob("build-*"))) == 1


def test_a_half_written_build_folder_is_ignored_and_removed(
    small_corpus: Path, build_index
) -> None:
    index_dir = build_index(small_corpus)
    before = _answers(index_dir)
    junk = index_dir / "build-99999999T999999999999Z-1"
    junk.mkdir()
    (junk / DATABASE).write_bytes(b"partial")
    assert _answers(index_dir) == before
    CoverageIndex.build(small_corpus, index_dir, progress=False, force=True)
    assert not junk.exists()


def test_two_builds_at_once_fail_fast(small_corpus: Path, build_index) -> None:
    index_dir = build_index(small_corpus)
    with layout.build_lock(index_dir), pytest.raises(BuildLockedError, match="Another build"):
        CoverageIndex.build(small_corpus, index_dir, progress=False)
