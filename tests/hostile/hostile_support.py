"""Helpers for the hostile regression battery (tests/hostile).

Only the public surface is used: `coverage_search` (its `__all__`) and the command line, in
process (`coverage_search.cli.main`, which returns an exit code) or as a subprocess
(`python -m coverage_search`). No internal module is imported, so the battery survives the
package being reorganised into subpackages.

Deliberately no conftest.py here: tests/ has no __init__.py, and a second module named
`conftest` would shadow tests/conftest.py for `from conftest import ...` in the older tests.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from conftest import SMALL_CORPUS, write_doc

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
SRC = REPO / "src"

# The lock file a build holds (the index folder layout documented in the README/layout).
BUILD_LOCK = ".build.lock"

# Phrases from the documents below: an error message must never quote them.
DOC_PHRASES = (
    "Simmer the tomatoes",
    "garlic and olive oil",
    "tokenized pre-IPO",
    "synthetic exposure",
    "safety-first",
    "seguridad como prioridad",
)

# The same four documents as the rest of the suite.
CORPUS = SMALL_CORPUS

DOC_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}


def make_corpus(folder: Path) -> Path:
    for name, (body, meta) in CORPUS.items():
        write_doc(folder, name, body, **meta)
    return folder


def build_corpus(root: Path) -> dict[str, Path]:
    """The hostile corpus under root/corpus, built into root/index with the real CLI."""
    corpus = make_corpus(root / "corpus")
    code, _out, err = cli("build", "--corpus", corpus, "--index", root / "index", "--quiet")
    assert code == 0, err
    return {"root": root, "corpus": corpus, "index": root / "index"}


def corpus_documents(folder: Path) -> list[str]:
    """Visible document files under `folder` (what corpus/ holds), relative, sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower() in DOC_SUFFIXES:
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)


# -- the command line -------------------------------------------------------------------------


def cli(*argv: object) -> tuple[int, str, str]:
    """Run the CLI in this process: (exit code, stdout, stderr). argparse exits count too."""
    from coverage_search.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([a if isinstance(a, str) else os.fspath(a) for a in argv])  # type: ignore[arg-type]
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("COVERAGE_SEARCH_DEBUG", None)
    return env


def run_module(
    args: Sequence[str | bytes | os.PathLike[str]], *, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`python -m coverage_search ARGS` with a bytes argv (so invalid UTF-8 passes through)."""
    argv = [os.fsencode(sys.executable), b"-m", b"coverage_search"]
    argv += [a if isinstance(a, bytes) else os.fsencode(a) for a in args]
    return subprocess.run(
        argv, capture_output=True, timeout=timeout, cwd=cwd, env=subprocess_env(), check=False
    )


def assert_one_line_error(code: int, err: str, *, codes: Sequence[int] = (1,)) -> str:
    """A failure the user can read: the expected exit code, one line, no crash report."""
    text = err.strip()
    assert code in codes, f"exit {code}, expected one of {tuple(codes)}; stderr: {err!r}"
    assert text, "no message on stderr"
    assert "\n" not in text, f"not one line: {err!r}"
    assert "unexpected" not in text.lower(), f"reported as a crash: {text!r}"
    assert "Traceback" not in err, err
    return text


def assert_ok_or_one_line_error(code: int, err: str, *, codes: Sequence[int] = (1, 2)) -> None:
    if code == 0:
        assert "unexpected" not in err.lower() and "Traceback" not in err, err
        return
    assert_one_line_error(code, err, codes=codes)


_DAMAGE_WORDS = re.compile(
    r"damag|corrupt|missing|unreadable|cannot be read|can't be read|broken|invalid|not a valid",
    re.I,
)


def assert_damage_message(code: int, err: str) -> str:
    """One line that names the damage and says what to run."""
    text = assert_one_line_error(code, err)
    assert _DAMAGE_WORDS.search(text), f"does not say the index is damaged: {text!r}"
    assert "coverage-search build" in text, f"does not say what to run: {text!r}"
    return text


def live_build(index_dir: Path) -> Path:
    """The live build folder named by index/CURRENT."""
    return index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def keyword_doc_ids(index_dir: Path, query: str, *, k: int = 10) -> list[str]:
    """Doc ids of the keyword hits for `query` (public API, index reopened every time)."""
    from coverage_search import CoverageIndex

    index = CoverageIndex.open(index_dir)
    try:
        return [h.doc_id for h in index.search(query, k=k, mode="keyword")]
    finally:
        index.close()


def indexed_document_count(index_dir: Path) -> int:
    from coverage_search import CoverageIndex

    index = CoverageIndex.open(index_dir)
    try:
        return index.stats().documents
    finally:
        index.close()


# -- holding the build lock as a build does -----------------------------------------------------


@contextlib.contextmanager
def held_build_lock(index_dir: Path, *, release_after: float = 2.0) -> Iterator[None]:
    """Hold index/.build.lock with flock(LOCK_EX) on our own descriptor, as a running build does.

    A safety timer lets go after `release_after` seconds, so a product that waits (with a bound)
    for the lock is not deadlocked by the test.
    """
    fh = open(index_dir / BUILD_LOCK, "a+")  # noqa: SIM115
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    guard = threading.Lock()
    released = False

    def release() -> None:
        nonlocal released
        with guard:
            if not released:
                fcntl.flock(fh, fcntl.LOCK_UN)
                released = True

    timer = threading.Timer(release_after, release)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        release()
        fh.close()


# -- the network: 127.0.0.1 only --------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture()
def network_guard(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse every name lookup but loopback in this process; returns the hosts refused."""
    refused: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and str(name) not in _LOOPBACK:
            refused.append(str(name))
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: no lookup of {name!r}")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return refused


Handler = Callable[[socket.socket, threading.Event, float], None]


@contextlib.contextmanager
def raw_server(
    handler: Handler, *, cap: float, held: list[list[float]] | None = None
) -> Iterator[str]:
    """A bare TCP server on 127.0.0.1 (ephemeral port) in a thread; yields its base URL.

    Each connection: the request is read, then `handler(conn, stop, deadline)` writes whatever
    it likes until `deadline` (now + `cap`), and the connection is closed. `held` gets each
    connection's [request read, client gone] monotonic times, the second once it is gone: how
    long the client waited, whatever its process took to start.
    """
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.05)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(1.0)
            data = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            began = time.monotonic()
            if held is not None:
                span = [began]
                held.append(span)
                threading.Thread(target=watch, args=(conn, span), daemon=True).start()
            handler(conn, stop, began + cap)

    def watch(conn: socket.socket, span: list[float]) -> None:
        """Record when the client hangs up (the request is all it ever sends)."""
        while not stop.is_set():
            try:
                if conn.recv(4096):
                    continue
            except TimeoutError:
                continue
            except OSError:
                pass  # reset by the client, or closed by the handler at its deadline
            break
        span.append(time.monotonic())

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        srv.close()


def trickle(
    conn: socket.socket, data: bytes, stop: threading.Event, deadline: float, every: float
) -> None:
    """Send `data` one byte every `every` seconds until done, stopped or past `deadline`."""
    for i in range(len(data)):
        if stop.is_set() or time.monotonic() > deadline:
            return
        conn.sendall(data[i : i + 1])
        stop.wait(every)
