"""Numeric options out of range are usage errors (exit 2 / QueryError), never "no limit".

`search --per-document -3` used to mean "no limit" (only 0 is documented as that); `-k 0`
and `-k -1` are usage errors; `--timeout` must be a positive, finite number of seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hostile_support import assert_one_line_error, cli, make_corpus, network_guard

__all__ = ["network_guard"]  # the fixture, imported for use here


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("options")
    corpus = make_corpus(root / "corpus")
    index = root / "index"
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    return {"corpus": corpus, "index": index}


@pytest.fixture(scope="module")
def opened(built: dict[str, Path]) -> Any:
    from coverage_search import CoverageIndex

    index = CoverageIndex.open(built["index"])
    yield index
    index.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "Amodei", "--per-document", "-3"],
        ["search", "Amodei", "--per-document", "-1"],
        ["search", "Amodei", "--per-document", "abc"],
        ["search", "Amodei", "--per-document", "1.5"],
        ["search", "Amodei", "-k", "0"],
        ["search", "Amodei", "-k", "-1"],
        ["ask", "Why did Amodei leave?", "-k", "0"],
        ["ask", "Why did Amodei leave?", "-k", "-1"],
    ],
    ids=lambda a: " ".join(a[2:]) + f" ({a[0]})",
)
def test_out_of_range_search_options_are_usage_errors(
    built: dict[str, Path], argv: list[str]
) -> None:
    """Each is exit 2 with one line on stderr and nothing on stdout."""
    code, out, err = cli(*argv, "--index", built["index"])
    assert code == 2, f"exit {code} (expected a usage error, 2); stdout: {out[:200]!r}"
    assert out == ""
    assert "unexpected" not in err.lower()


@pytest.mark.parametrize("per_document", [-3, -1, 2.5, "2", None])
def test_api_per_document_out_of_range_is_a_query_error(opened: Any, per_document: Any) -> None:
    """`idx.search(..., per_document=-3)` (or a non-integer) raises QueryError."""
    from coverage_search import QueryError

    with pytest.raises(QueryError):
        opened.search("Amodei", per_document=per_document)


@pytest.mark.parametrize("k", [0, -1, 2.5, "5", None])
def test_api_k_out_of_range_is_a_query_error(opened: Any, k: Any) -> None:
    """`idx.search(..., k=0)` (or a non-integer) raises QueryError; so does answer()."""
    from coverage_search import QueryError

    with pytest.raises(QueryError):
        opened.search("Amodei", k=k)
    with pytest.raises(QueryError):
        opened.answer("Why did Amodei leave?", k=k)


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf", "-inf"])
def test_add_timeout_must_be_positive_and_finite(
    built: dict[str, Path], network_guard: list[str], timeout: str
) -> None:
    """`add --timeout nan|inf|0|-1 URL` is a usage error (exit 2) before any request."""
    code, _out, err = cli(
        "add",
        "http://127.0.0.1:9/x",
        f"--timeout={timeout}",
        "--corpus",
        built["corpus"],
        "--index",
        built["index"],
        "--quiet",
    )
    assert_one_line_error(code, err, codes=(2,))
    assert "timeout" in err.lower()


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "--index", ""],
        ["build", "--corpus", " ", "--index", "{index}"],
        ["search", "Amodei", "--index", ""],
        ["stats", "--index", ""],
        ["watch", "add", "Amodei", "--index", "", "--corpus", "{corpus}"],
        ["eval", "--qa", "", "--index", "{index}"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_empty_path_is_a_usage_error_not_the_current_folder(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """`--index "$INDEX"` with $INDEX unset built an index into the current folder (Path("")
    is "."), and `--corpus ""` indexed it; the API already refused empty paths."""
    monkeypatch.chdir(tmp_path)
    filled = [a.format(index=built["index"], corpus=built["corpus"]) for a in argv]
    code, out, err = cli(*filled)
    assert code == 2, f"exit {code}; stdout: {out[:200]!r}; stderr: {err[-300:]!r}"
    assert "empty" in err and "unexpected" not in err.lower()
    assert list(tmp_path.iterdir()) == [], "nothing is written into the current folder"


def test_an_empty_environment_variable_is_the_default(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COVERAGE_SEARCH_INDEX= (set, but to nothing) is ./index, as if unset, not ".": the
    current folder is never taken for the index."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", "")
    code, _out, err = cli("stats")
    assert code == 1 and "No index at index." in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["", " "])
@pytest.mark.parametrize("name", ["COVERAGE_SEARCH_BACKEND", "COVERAGE_SEARCH_MODEL"])
def test_a_model_or_backend_variable_set_to_nothing_is_unset(
    built: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
) -> None:
    """COVERAGE_SEARCH_BACKEND= stopped every build with "Unknown embedding backend ''", and
    COVERAGE_SEARCH_MODEL=' ' every search with "built with model ..., not ' '. Rebuild it";
    the index and corpus variables set to nothing already counted as unset."""
    index = tmp_path / "index"  # a copy: the module's index stays as the other tests built it
    shutil.copytree(built["index"], index, symlinks=True)
    monkeypatch.setenv(name, value)
    argv = ("--corpus", built["corpus"], "--index", index, "--quiet", "--force")
    code, _out, err = cli("build", *argv)
    assert code == 0, err
    code, out, err = cli("search", "Amodei", "--index", index, "-k", "1")
    assert code == 0 and "Amodei" in out, err
