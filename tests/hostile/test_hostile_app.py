"""The app's upload form states the size limit whenever a file is refused for its size.

In a browser, a file over Streamlit's server.maxUploadSize (20 MB, .streamlit/config.toml) is
refused by the widget itself: the form is then submitted with no file, and the app used to say
only "Choose a file first." AppTest cannot push a file through the browser-side limit (its
set_value bypasses it), so the first test submits the form with no file, which is exactly what
the server sees in that case, and requires the message to state the limit. The others push a
25 MB file past the widget, as AppTest can, and require the error to state the limit.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hostile_support import REPO, cli, make_corpus

APP = REPO / "app.py"
LIMIT = re.compile(r"\d+(\.\d+)?\s*MB", re.I)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("app")
    corpus = make_corpus(root / "corpus")
    code, _out, err = cli("build", "--corpus", corpus, "--index", root / "index", "--quiet")
    assert code == 0, err
    return {"corpus": corpus, "index": root / "index"}


@pytest.fixture()
def app(built: dict[str, Path], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(REPO)  # the app's .streamlit/config.toml (maxUploadSize) applies
    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", str(built["corpus"]))
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", str(built["index"]))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _messages(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.value for m in (*at.warning, *at.error, *at.info)]


@pytest.mark.slow
def test_submitting_without_a_file_states_the_size_limit(app) -> None:  # type: ignore[no-untyped-def]
    """No file arrives (the browser dropped one over the limit): the message states the limit."""
    limit = app.file_uploader(key="upload_file").proto.max_upload_size_mb
    app.form_submit_button(key="add").click().run()
    assert not app.exception
    shown = _messages(app)
    assert shown, "no message at all"
    assert any(LIMIT.search(m) for m in shown), f"no size limit stated: {shown}"
    assert any(str(limit) in m for m in shown), (
        f"the widget's limit ({limit} MB) not stated: {shown}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["big-report.md", "big-report.pdf"])
def test_a_25_mb_upload_is_refused_with_the_limit(
    app,
    built: dict[str, Path],
    name: str,  # type: ignore[no-untyped-def]
) -> None:
    """A 25 MB file pushed past the widget: an error stating the size limit; corpus unchanged."""
    before = sorted(p.name for p in built["corpus"].iterdir())
    head = b"%PDF-1.4\n" if name.endswith(".pdf") else b"# Big\n\n"
    data = head + b"word " * (25 * 1024 * 1024 // 5)
    app.file_uploader(key="upload_file").set_value((name, data, "application/octet-stream"))
    app.form_submit_button(key="add").click().run()
    assert not app.exception
    shown = _messages(app)
    assert any(LIMIT.search(m) for m in shown), f"no size limit stated: {shown}"
    assert not any("Choose a file first" in m for m in shown)
    assert sorted(p.name for p in built["corpus"].iterdir()) == before


def test_a_build_damaged_under_the_running_app_is_one_line_and_recovers(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from streamlit.testing.v1 import AppTest

    index = tmp_path / "index"
    shutil.copytree(built["index"], index)
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", str(built["corpus"]))
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", str(index))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    live = index / (index / "CURRENT").read_text(encoding="utf-8").strip()
    (live / "keywords").rename(live / "keywords.away")  # the open index searches from memory
    at.run()
    assert not at.exception, at.exception
    shown = [html.unescape(m) for m in _messages(at)]  # the Markdown source, entities escaped
    assert any("damaged (keywords/" in m and "coverage-search build" in m for m in shown), shown
    (live / "keywords.away").rename(live / "keywords")
    at.run()
    assert not at.exception, at.exception
    assert not at.error


@pytest.mark.slow
def test_folders_set_to_nothing_are_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COVERAGE_SEARCH_INDEX= and COVERAGE_SEARCH_CORPUS= (an unset variable passed on) were
    Path(""), the current folder: the app looked for an index there and uploads went there."""
    from streamlit.testing.v1 import AppTest

    make_corpus(tmp_path / "corpus")
    code, _out, err = cli("build", "--corpus", tmp_path / "corpus", "--index", tmp_path / "index")
    assert code == 0, err
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", "")
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", "")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert not any("no index" in m.lower() for m in _messages(at)), _messages(at)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "index"]
