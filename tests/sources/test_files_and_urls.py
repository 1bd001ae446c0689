"""The package's one URL check and its one way to open a corpus file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coverage_search.sources.files import read_inside
from coverage_search.sources.reading import Unreadable
from coverage_search.sources.urls import is_web_url, url_problem


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://[::1/x", "the [ ] around its host do not match"),
        ("http://127.0.0.1:99999/x", "port 99999 is out of range (1-65535)"),
        ("http://[::1]:70000/x", "port 70000 is out of range (1-65535)"),
        ("http://127.0.0.1:0/x", "port 0 is out of range (1-65535)"),
        ("http://127.0.0.1:8o/x", "port '8o' is not a number"),
        ("http://exa mple.com/", "'exa mple.com' is not a host name"),
        ("http://exa..mple.com/", "'exa..mple.com' is not a host name"),
        ("http:///x", "it names no host"),
        ("javascript:alert(1)", "only http:// and https:// URLs can be fetched"),
        ("mailto:desk@example.org", "only http:// and https:// URLs can be fetched"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url: str, says: str) -> None:
    problem = url_problem(url)
    assert problem is not None and says in problem
    assert not is_web_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.axios.com/2026/06/16/anthropic?a=1#top",
        "HTTP://EXAMPLE.COM",
        "http://127.0.0.1:8080/x",
        "http://[::1]:8080/",
        "http://bücher.de/",
        "http://example.com./",
    ],
)
def test_good_urls_pass(url: str) -> None:
    assert url_problem(url) is None and is_web_url(url)


def test_read_inside_reads_files_and_links_inside_only(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "sub").mkdir(parents=True)
    outside.mkdir()
    (corpus / "sub" / "a.md").write_bytes(b"inside")
    (outside / "secret.md").write_bytes(b"secret")
    (corpus / "alias.md").symlink_to("sub/a.md")
    (corpus / "leak.md").symlink_to(outside / "secret.md")
    (corpus / "hop").symlink_to(outside, target_is_directory=True)
    os.mkfifo(corpus / "pipe.md")
    assert read_inside(corpus / "sub" / "a.md", corpus, 100) == b"inside"
    assert read_inside(corpus / "alias.md", corpus, 100) == b"inside"
    for name, says in [
        ("leak.md", "outside the corpus"),
        ("hop/secret.md", "outside the corpus"),
        ("pipe.md", "not a regular file"),  # and no wait for a writer
        ("sub", "not a regular file"),
        ("missing.md", "not there"),
    ]:
        with pytest.raises(Unreadable, match=says):
            read_inside(corpus / name, corpus, 100)
    with pytest.raises(Unreadable, match="too large"):
        read_inside(corpus / "sub" / "a.md", corpus, 3)
