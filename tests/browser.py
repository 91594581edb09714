"""Debian's Chromium driven by Playwright, as the tests use it, and axe-core run inside it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# What WCAG 2.1 AA asks of a municipal website; "serious" and "critical" violations fail a test.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
BLOCKING = ("serious", "critical")


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def blocking_violations(page_or_frame) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 AA violations on a page (or one frame), one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page_or_frame, options=AXE_OPTIONS).response
    return [f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in BLOCKING]
