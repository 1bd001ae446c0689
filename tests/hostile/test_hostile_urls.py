"""A malformed URL given to `add` is reported as a malformed URL, in one line.

Not as "no article text in the page", "connection refused" or a crash ("unexpected ...").
Runs in process with every name lookup but loopback refused (no request leaves 127.0.0.1).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile_support import assert_one_line_error, cli, make_corpus, network_guard

__all__ = ["network_guard"]

SAYS_WHAT_IS_WRONG = re.compile(
    r"invalid|not a valid|malformed|port|not an http|only http|bad url|not a url", re.I
)
MISLEADING = ("no article text", "refused", "host not found", "not found", "unexpected")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A built index, so a failed add does not start a first build."""
    root = tmp_path_factory.mktemp("urls")
    corpus = make_corpus(root / "corpus")
    code, _out, err = cli("build", "--corpus", corpus, "--index", root / "index", "--quiet")
    assert code == 0, err
    return {"corpus": corpus, "index": root / "index"}


BAD_URLS = [
    "http://[::1/x",  # unbalanced IPv6 bracket
    "http://127.0.0.1:99999/x",  # port out of range
    "http://[::1]:70000/x",  # port out of range, IPv6 host
    "http://127.0.0.1:8o/x",  # non-numeric port
    "http://exa mple.com/",  # space in the host
    "ht!tp://x",  # not a scheme at all
]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("as_feed", [False, True], ids=["article", "feed"])
def test_add_malformed_url_says_what_is_wrong(
    built: dict[str, Path], network_guard: list[str], url: str, as_feed: bool
) -> None:
    """`add URL` / `add --feed URL`: exit 1 or 2, one line that says the URL is malformed."""
    source = ["--feed", url] if as_feed else [url]
    code, _out, err = cli(
        "add",
        *source,
        "--timeout",
        "2",
        "--corpus",
        built["corpus"],
        "--index",
        built["index"],
        "--quiet",
    )
    text = assert_one_line_error(code, err, codes=(1, 2))
    assert SAYS_WHAT_IS_WRONG.search(text), f"does not say what is wrong with the URL: {text!r}"
    wrong = [m for m in MISLEADING if m in text.lower()]
    assert not wrong, f"misleading reason {wrong} for a malformed URL: {text!r}"
