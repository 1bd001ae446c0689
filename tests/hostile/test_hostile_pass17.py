"""Hostile pass 17: environment variables set to blanks, QA files of invisible text, and more.

COVERAGE_SEARCH_CACHE=' ' exported the model (143 MB) into a folder named ' ' in the current
folder; the other variables set to blanks already counted as unset.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import build_corpus, run_module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("pass17"))


@pytest.mark.parametrize("value", [" ", "\t"])
def test_a_cache_variable_set_to_blanks_is_unset(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COVERAGE_SEARCH_CACHE", value)
    done = run_module(
        ["search", "Amodei", "--index", str(built["index"]), "-k", "1"], cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-300:]
    assert list(tmp_path.iterdir()) == [], "nothing is written into the current folder"
