"""Debian's Chromium driven by Playwright, as the tests use it, and axe-core run inside it."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn

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
    return [f"{v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
            for v in results["violations"] if v["impact"] in BLOCKING for node in v["nodes"]]


def serve(app) -> Iterator[str]:
    """An ASGI app served by uvicorn on a free loopback port, from a thread: yields its base URL, then stops it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
