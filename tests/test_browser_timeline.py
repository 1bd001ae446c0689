"""The timeline in a real browser: Streamlit on 127.0.0.1, headless Chromium clicks a bar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import write_coverage_corpus, write_doc
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, settle, streamlit_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium"),
]
EVIL_OUTLET = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app over the coverage corpus plus a document with a hostile outlet and title."""
    root = tmp_path_factory.mktemp("browser-timeline")
    corpus = write_coverage_corpus(root / "corpus")
    write_doc(corpus, "evil.md",
              "# Amodei\n\nDario Amodei left OpenAI, a gossip site claimed without sources.",
              title="<script>alert(2)</script> Amodei gossip", outlet=EVIL_OUTLET,
              published="2026-06-22", url="https://evil.example/gossip")  # fmt: skip
    with streamlit_app(root, corpus) as url:
        yield url


def picked_caption(page: Any) -> str:
    captions = page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
    return next((c for c in captions if "clear the selection" in c), "")


def test_clicking_a_bar_lists_its_stories(server: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1300})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server, wait_until="domcontentloaded")
            box = page.get_by_placeholder("Ask about the coverage…")
            box.wait_for(timeout=120_000)
            box.fill("Why did Dario Amodei leave OpenAI?")
            page.get_by_role("button", name="Ask", exact=True).click()
            page.get_by_role("heading", name="Coverage over time").wait_for(timeout=60_000)
            settle(page)
            charts = page.locator("[data-testid='stVegaLiteChart']")
            charts.first.wait_for(timeout=60_000)
            assert charts.count() == 2
            page.wait_for_timeout(500)  # vega-embed draws after the element appears
            page.screenshot(path=str(ARTIFACTS / "browser-timeline.png"))

            # Click along the period chart's middle until a bar is hit: the list then holds
            # that bar's stories only, and says so.
            area = charts.first.bounding_box()
            assert area is not None
            caption = ""
            spots = [(x, y) for y in (0.35, 0.55) for x in range(10, 95, 4)]
            for x, y in spots:
                page.mouse.click(area["x"] + area["width"] * x / 100,
                                 area["y"] + area["height"] * y)  # fmt: skip
                settle(page)
                if caption := picked_caption(page):
                    break
            assert caption.startswith("1 story from 2026-06-"), caption
            titles = {
                "2026-06-16": "Why Dario Amodei left OpenAI",
                "2026-06-18": "Anthropic y la seguridad",
                "2026-06-20": "Amodei explains the OpenAI split",
                "2026-06-22": "<script>alert(2)</script> Amodei gossip",
            }
            day = caption.split(" from ")[1][:10]
            passages = page.locator("main").inner_text().split("\nPassages\n", 1)[1]
            listed = [t for t in titles.values() if t in passages]
            assert listed == [titles[day]], (day, listed)
            page.screenshot(path=str(ARTIFACTS / "browser-timeline-picked.png"))

            # The hostile outlet is a label in the chart and a facet button, never markup.
            assert page.locator("img[src='x']").count() == 0
            sidebar = page.locator("[data-testid='stSidebar']").inner_text()
            assert f"{EVIL_OUTLET} · 1" in sidebar
            assert dialogs == []
        finally:
            browser.close()
