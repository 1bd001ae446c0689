"""`--timeout S` bounds the whole response: status line, headers and body, however slow.

Bare TCP servers on 127.0.0.1 (ephemeral ports, threads) misbehave on purpose: one sends the
status line a byte at a time, one sends the status line and then trickles the headers, one
accepts and says nothing, one trickles the body. Each stops after CAP seconds, so a client that
is not bounded by --timeout finishes only then, later than the bound. `coverage-search add
--timeout 2` runs as a real process and must hang up within timeout + 5 s of its request, as
the server sees it (a bound check, not a speed benchmark: the process's own start, seconds on a
loaded machine, is not counted), then fail with one line and exit 1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile_support import (
    assert_one_line_error,
    cli,
    make_corpus,
    raw_server,
    subprocess_env,
    trickle,
)

TIMEOUT = 2.0
BOUND = TIMEOUT + 5.0
CAP = BOUND + 1.0  # the servers give up after this long: past the bound, never forever
PAGE = (
    b"<!doctype html><html><head><title>Slow</title></head><body><article><h1>Slow</h1>"
    + b"<p>A slow page about slow servers and patient clients. </p>" * 10
    + b"</article></body></html>"
)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A built index, so a failed add does not start a first build (which would add time)."""
    root = tmp_path_factory.mktemp("timeouts")
    corpus = make_corpus(root / "corpus")
    code, _out, err = cli("build", "--corpus", corpus, "--index", root / "index", "--quiet")
    assert code == 0, err
    return corpus, root / "index"


def status_line_trickle(conn: socket.socket, stop: threading.Event, deadline: float) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(PAGE)
    trickle(conn, head + PAGE, stop, deadline, every=0.5)


def header_trickle(conn: socket.socket, stop: threading.Event, deadline: float) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    rest = b"Content-Type: text/html\r\nX-Padding: " + b"p" * 400 + b"\r\n\r\n" + PAGE
    trickle(conn, rest, stop, deadline, every=0.25)


def feed_header_trickle(conn: socket.socket, stop: threading.Event, deadline: float) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    rest = b"Content-Type: application/rss+xml\r\nX-Padding: " + b"p" * 400 + b"\r\n\r\n"
    trickle(conn, rest, stop, deadline, every=0.25)


def silent(conn: socket.socket, stop: threading.Event, deadline: float) -> None:
    stop.wait(max(0.0, deadline - time.monotonic()))


def body_trickle(conn: socket.socket, stop: threading.Event, deadline: float) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(PAGE)
    )
    trickle(conn, PAGE, stop, deadline, every=0.25)


CASES = {
    "status-line-one-byte-at-a-time": (status_line_trickle, "/x"),
    "headers-trickled": (header_trickle, "/x"),
    "never-answers": (silent, "/x"),
    "body-trickled": (body_trickle, "/x"),
    "feed-headers-trickled": (feed_header_trickle, "--feed"),
}


@pytest.fixture(scope="module")
def outcomes(place: tuple[Path, Path]) -> dict[str, tuple[float, int, str]]:
    """Every case at once (one server and one `add` process each): how long each client held
    its server's connections (first request to last hang-up), its exit code and stderr.

    Run side by side so the battery waits about CAP seconds once, not once per case.
    """
    results: dict[str, tuple[float, int, str]] = {}
    held: dict[str, list[list[float]]] = {}
    with contextlib.ExitStack() as stack:
        procs = {}
        for name, (handler, how) in CASES.items():
            held[name] = []
            base = stack.enter_context(raw_server(handler, cap=CAP, held=held[name]))
            # Each its own corpus and index: `add` holds a lock on the corpus folder.
            corpus, index = place[0].parent / name / "corpus", place[0].parent / name / "index"
            shutil.copytree(place[0], corpus)
            shutil.copytree(place[1], index)
            source = ["--feed", f"{base}/feed.xml"] if how == "--feed" else [f"{base}{how}"]
            argv = [
                os.fsencode(sys.executable),
                b"-m",
                b"coverage_search",
                b"add",
                *map(os.fsencode, source),
                b"--timeout",
                b"%g" % TIMEOUT,
                b"--corpus",
                os.fsencode(corpus),
                b"--index",
                os.fsencode(index),
                b"--quiet",
            ]
            procs[name] = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env()
            )

        def wait(name: str) -> None:
            proc = procs[name]
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            spans = held[name]
            gone = time.monotonic() + 5  # the watchers record each hang-up as the process ends
            while any(len(span) < 2 for span in spans) and time.monotonic() < gone:
                time.sleep(0.05)
            ended = [span for span in spans if len(span) == 2]  # every one, unless a bug hangs
            waited = max(e for _, e in ended) - min(b for b, _ in ended) if ended else 0.0
            results[name] = (waited, proc.returncode, err.decode(errors="replace"))

        waiters = [threading.Thread(target=wait, args=(n,)) for n in procs]
        for t in waiters:
            t.start()
        for t in waiters:
            t.join()
    return results


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_add_timeout_bounds_the_whole_response(
    outcomes: dict[str, tuple[float, int, str]], case: str
) -> None:
    """`add --timeout 2 URL` (or `--feed URL`) gives up within timeout + 5 s, one line, exit 1.

    Cases: status line sent a byte at a time; status line then headers trickled; a server that
    accepts and never answers; headers then a trickled body; a feed whose headers trickle.
    """
    waited, code, err = outcomes[case]
    assert waited > 0, f"the server saw no request: {err}"
    assert waited < BOUND, f"--timeout {TIMEOUT:g} waited {waited:.1f} s (bound {BOUND:g} s): {err}"
    assert_one_line_error(code, err)
