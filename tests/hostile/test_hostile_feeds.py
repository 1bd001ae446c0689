"""Unfetchable feed entries are given up once; transient failures are retried, boundedly.

The feed is served from 127.0.0.1 (tests/http_fixture.py). Entries with a `javascript:`,
`file:`, `data:` or `mailto:` link, or no link at all, can never be fetched: `add --feed`
reports them once as given up, and `update` neither retries nor reports them again, and exits 0
once only such permanent failures remain. An entry answering 503 is retried on the next
update, but not forever. Runs in process with every name lookup but loopback refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_support import cli, keyword_doc_ids, make_corpus, network_guard

from http_fixture import OTHER_PARAGRAPHS, WIRE_PARAGRAPHS, Route, Site, article_html, serve

__all__ = ["network_guard"]

PERMANENT = {  # guid -> link (None: the entry has no link)
    "perm-js": "javascript:alert(1)",
    "perm-file": "file:///etc/passwd",
    "perm-data": "data:text/html,<p>hello</p>",
    "perm-mailto": "mailto:desk@example.org",
    "perm-nolink": None,
}
MARKERS = {  # how each shows up in a failure's source
    "perm-js": "javascript:",
    "perm-file": "file:",
    "perm-data": "data:",
    "perm-mailto": "mailto:",
    "perm-nolink": "perm-nolink",
}


def _feed(base: str, *, busy: bool) -> bytes:
    items = [("good-1", f"{base}/good.html", "Good story")]
    items += [(guid, link, guid) for guid, link in PERMANENT.items()]
    if busy:
        items.append(("busy-1", f"{base}/busy.html", "Busy story"))
    xml = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid>'
        + (f"<link>{link.replace('&', '&amp;').replace('<', '&lt;')}</link>" if link else "")
        + f"<title>{title}</title></item>"
        for guid, link, title in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile</title>'
        f"<link>{base}/</link><description>d</description>{xml}</channel></rss>"
    ).encode()


@pytest.fixture()
def place(tmp_path: Path, network_guard: list[str]) -> Iterator[dict[str, Any]]:
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    code, _out, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, err
    with serve(Site()) as site:
        site.routes["/good.html"] = Route(
            article_html("Why Dario Amodei left OpenAI", WIRE_PARAGRAPHS, site_name="Wire").encode()
        )
        site.routes["/busy.html"] = Route(b"<html><body>Busy</body></html>", status=503)
        yield {"corpus": corpus, "index": index, "site": site}


def _run(place: dict[str, Any], *argv: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli(
        *argv, "--corpus", place["corpus"], "--index", place["index"], "--quiet", "--json"
    )
    assert "unexpected" not in err.lower(), err
    return code, json.loads(out), err


def _reported(report: dict[str, Any]) -> set[str]:
    """Which permanent entries a report lists as failed."""
    sources = [str(f.get("source")) + " " + str(f.get("reason")) for f in report["failed"]]
    return {guid for guid, mark in MARKERS.items() if any(mark in s or guid in s for s in sources)}


def test_permanent_failures_are_reported_once_then_given_up(place: dict[str, Any]) -> None:
    """add --feed, update, update: each unfetchable entry is reported in exactly one run."""
    site = place["site"]
    site.routes["/feed.xml"] = Route(
        _feed(site.base, busy=False), content_type="application/rss+xml"
    )
    runs = [
        _run(place, "add", "--feed", site.url("/feed.xml")),
        _run(place, "update"),
        _run(place, "update"),
    ]
    for guid in PERMANENT:
        seen_in = [i for i, (_, report, _) in enumerate(runs) if guid in _reported(report)]
        assert len(seen_in) == 1, f"{guid} reported in runs {seen_in} (0=add, 1-2=update)"
    assert keyword_doc_ids(place["index"], "constitution-based"), "the good entry was added"


def test_second_update_exits_0_when_only_permanent_failures_remain(place: dict[str, Any]) -> None:
    """The second `update` exits 0 and retries none of the unfetchable entries."""
    site = place["site"]
    site.routes["/feed.xml"] = Route(
        _feed(site.base, busy=False), content_type="application/rss+xml"
    )
    _run(place, "add", "--feed", site.url("/feed.xml"))
    _run(place, "update")
    code, report, _err = _run(place, "update")
    assert code == 0, f"second update exit {code}: {report['failed']}"
    assert not _reported(report), f"retried again: {sorted(_reported(report))}"


def test_transient_503_is_retried_on_the_next_update(place: dict[str, Any]) -> None:
    """An entry that answered 503 is requested again by the next `update`."""
    site = place["site"]
    site.routes["/feed.xml"] = Route(
        _feed(site.base, busy=True), content_type="application/rss+xml"
    )
    _run(place, "add", "--feed", site.url("/feed.xml"))
    before = site.hits["/busy.html"]
    _run(place, "update")
    assert site.hits["/busy.html"] == before + 1


def test_transient_failure_is_not_retried_forever(place: dict[str, Any]) -> None:
    """An entry that answers 503 every time is given up after at most 10 attempts.

    (The product has no retry policy yet; 10 is this test's bound for "not forever".)
    """
    site = place["site"]
    site.routes["/feed.xml"] = Route(
        _feed(site.base, busy=True), content_type="application/rss+xml"
    )
    _run(place, "add", "--feed", site.url("/feed.xml"))
    for _ in range(12):
        _run(place, "update")
    assert site.hits["/busy.html"] <= 10, f"503 entry fetched {site.hits['/busy.html']} times"


def test_update_exits_0_once_the_transient_entry_recovers(place: dict[str, Any]) -> None:
    """503 entry recovers: the next update adds it and exits 0 (only permanent failures remain)."""
    site = place["site"]
    site.routes["/feed.xml"] = Route(
        _feed(site.base, busy=True), content_type="application/rss+xml"
    )
    _run(place, "add", "--feed", site.url("/feed.xml"))
    site.routes["/busy.html"] = Route(
        article_html(
            "Anthropic closes a new funding round", OTHER_PARAGRAPHS, site_name="Wire"
        ).encode()
    )
    code, report, _err = _run(place, "update")
    assert keyword_doc_ids(place["index"], "sovereign wealth"), "the recovered entry was not added"
    assert code == 0, f"update exit {code} with only permanent failures left: {report['failed']}"
