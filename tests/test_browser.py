"""The real thing: `streamlit run app.py` on a free port, driven by headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, SEED_ARTICLE, write_doc

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no /usr/bin/chromium: apt-get install -y chromium to run the browser tests",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], *, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on a temporary corpus (the seed article and a hostile document) and index."""
    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / SEED_ARTICLE.name).write_bytes(SEED_ARTICLE.read_bytes())
    write_doc(
        corpus,
        "evil.txt",
        "<script>alert('x')</script> Tokenized shares of Anthropic were sold on a "
        "<img src=x onerror=alert(2)> shady exchange, a scam site said. Write to "
        "press@attacker.example, see www.attacker.example/phish or "
        "http://127.0.0.1:1/beacon.png for the exchange's terms.\n",
        title="<script>alert(1)</script> Token scam",
        url="javascript:alert(1)",
        outlet="Evil Outlet",
        published="2026-06-01",
    )
    with streamlit_app(root, corpus) as url:
        yield url


@contextmanager
def streamlit_app(root: Path, corpus: Path) -> Iterator[str]:
    """`streamlit run app.py` on 127.0.0.1 over `corpus`, indexed into root/index; stopped after."""
    from coverage_search import CoverageIndex

    CoverageIndex.build(corpus, root / "index", progress=False)
    port = free_port()
    env = {
        **os.environ,
        "COVERAGE_SEARCH_CORPUS": str(corpus),
        "COVERAGE_SEARCH_INDEX": str(root / "index"),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    log = (root / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        # From REPO, so .streamlit/config.toml applies as it does under `make run`.
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def settle(page: Any) -> None:
    """Wait until the script run the last click started has finished rendering."""
    page.wait_for_timeout(300)  # the rerun starts asynchronously after a click
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(300)


def test_asking_in_a_real_browser(server: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server, wait_until="domcontentloaded")
            box = page.get_by_placeholder("Ask about the coverage…")
            box.wait_for(timeout=120_000)  # the first visit loads the model
            box.fill("What is Anthropic's Responsible Scaling Policy?")
            page.get_by_role("button", name="Ask", exact=True).click()
            page.get_by_role("heading", name="Answer").wait_for(timeout=60_000)
            settle(page)
            assert "Responsible Scaling Policy" in page.locator("main").inner_text()
            citation = page.locator("a", has_text="[1]").first
            assert "#:~:text=" in (citation.get_attribute("href") or "")
            source = page.get_by_role("link", name="Open source ↗").first
            href = source.get_attribute("href") or ""
            assert href.startswith("https://windowsforum.com/threads/427154/#:~:text=")
            highlighted = "mark, span[class*='Background'], span[style*='background']"
            assert page.locator(highlighted).count()
            page.screenshot(path=str(ARTIFACTS / "browser-answer.png"), full_page=False)

            # A hostile document: its markup shows as text, runs nothing, links nowhere.
            box.fill("Were tokenized shares of Anthropic sold on a shady exchange?")
            page.get_by_role("button", name="Ask", exact=True).click()
            page.wait_for_function(  # the new answer, not the previous one, is on the page
                "() => [...document.querySelectorAll('[data-testid=stMarkdownContainer]')]"
                ".some(e => e.innerText.includes('[1]') && /shady exchange/.test(e.innerText))",
                timeout=60_000,
            )
            settle(page)
            card = page.get_by_text("<script>alert(1)</script> Token scam").first
            card.wait_for(timeout=60_000)
            card.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser-hostile.png"))
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            assert not [h for h in hrefs if h.lower().startswith("javascript:")]
            # Addresses in a document's text stay text: no mailto: or link made from them.
            shown = page.locator("main").inner_text().replace("\u2060", "")  # the word joiners
            assert "press@attacker.example" in shown
            assert not [h for h in hrefs if not h.startswith(("http://127.0.0.1", "https://"))]
            assert not [h for h in hrefs if "attacker" in h or "127.0.0.1:1/" in h]
            assert page.locator("main img[src='x']").count() == 0
            assert dialogs == []
        finally:
            browser.close()
