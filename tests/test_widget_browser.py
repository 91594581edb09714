"""The widget in real headless Chromium: the app on one loopback port, host pages on others.

The example page (examples/host-page.html) is served from an origin in allowed_origins and from one that is
not; only the first may show the chat.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot.service import BotService
from bot.settings import PROJECT_ROOT
from web.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EXAMPLE = PROJECT_ROOT / "examples" / "host-page.html"
SCREENSHOT = PROJECT_ROOT / "docs" / "widget.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "Mitä ilmastolaki vaatii kunnalta?"
OPENED_FRAME = ("() => { const inner = document.activeElement && document.activeElement.shadowRoot;"
                " return !!inner && !!inner.activeElement && inner.activeElement.tagName === 'IFRAME'; }")
FOCUSED_BUTTON = ("() => { const inner = document.activeElement && document.activeElement.shadowRoot;"
                  " return !!inner && !!inner.activeElement && inner.activeElement.tagName === 'BUTTON'; }")


def host_page_server(page: bytes) -> ThreadingHTTPServer:
    """A host page on its own loopback port (its own origin), served from a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def origin(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def sites(starter_settings):
    """(app URL, allowed host page URL, other host page URL), all on loopback."""
    app_socket = socket.socket()
    app_socket.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{app_socket.getsockname()[1]}"
    page = EXAMPLE.read_bytes().replace(b"http://127.0.0.1:7860", app_url.encode())
    allowed, other = host_page_server(page), host_page_server(page)
    settings = replace(starter_settings, allowed_origins=(origin(allowed),))
    server = uvicorn.Server(uvicorn.Config(create_app(BotService(settings, ingest_on_start=False)), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [app_socket]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield app_url, origin(allowed) + "/host-page.html", origin(other) + "/host-page.html"
    server.should_exit = True
    thread.join(10)
    for site in (allowed, other):
        site.shutdown()
    app_socket.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_widget(page, url: str):
    page.goto(url, wait_until="load")
    button = page.locator("button[aria-controls]")  # Playwright's CSS pierces the open shadow root
    button.wait_for()
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    return button


def test_ask_in_the_widget_and_close_it_with_esc(sites, browser):
    app_url, host_url, _ = sites
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    button = open_widget(page, host_url)
    assert button.get_attribute("aria-expanded") == "true"
    dialog = page.locator("[role=dialog]")
    assert dialog.get_attribute("aria-label") == "Laukaan ilmastobotti" and dialog.is_visible()
    page.wait_for_function(OPENED_FRAME)
    chat = page.frame_locator("iframe[title='Laukaan ilmastobotti']")
    question = chat.locator("#kysymys")
    question.wait_for()
    assert question.get_attribute("placeholder") == "Kirjoita kysymys…"
    chat.locator("#kysymys:focus").wait_for()  # focus went on into the question box

    question.fill(QUESTION)
    with page.expect_request("**/api/ask/stream") as request:
        question.press("Enter")
    assert request.value.post_data_json["municipality"] == "Laukaa"
    sources = chat.locator(".vastaus .lahteet li")
    sources.first.wait_for(timeout=60_000)
    answer = chat.locator(".vastaus").last
    assert "[1]" in answer.inner_text()
    assert chat.locator(".vastaus a.viite").first.get_attribute("href").endswith("-lahde-1")
    assert sources.first.locator("q").inner_text()

    document = sources.first.get_by_text("Avaa asiakirja")
    assert document.get_attribute("target") == "_blank" and "noopener" in document.get_attribute("rel")
    href = document.evaluate("a => a.href")
    assert href.startswith(app_url + "/files/")
    response = httpx.get(href.split("#")[0])
    assert response.status_code == 200 and response.content
    original = sources.first.get_by_text("Alkuperäinen lähde")
    if original.count():
        assert original.get_attribute("href").startswith("https://")

    sources.first.scroll_into_view_if_needed()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    question.press("Escape")  # inside the iframe: the widget asks the host page to close it
    page.wait_for_function(FOCUSED_BUTTON)
    assert not dialog.is_visible() and button.get_attribute("aria-expanded") == "false"
    page.close()


def test_the_panel_fills_a_phone_screen(sites, browser):
    _, host_url, _ = sites
    page = browser.new_page(viewport={"width": 390, "height": 780})
    open_widget(page, host_url)
    box = page.locator("[role=dialog]").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 780}
    page.keyboard.press("Escape")
    page.wait_for_function(FOCUSED_BUTTON)
    page.close()


def test_a_host_that_is_not_allowed_cannot_frame_the_chat(sites, browser):
    _, _, other_url = sites
    page = browser.new_page()
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text) if "frame-ancestors" in message.text else None)
    open_widget(page, other_url)
    deadline = time.monotonic() + 15
    while not refusals and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert refusals, "Chromium did not report the frame-ancestors refusal"
    frame = page.locator("iframe").element_handle().content_frame()
    assert frame.url.startswith("chrome-error://") and frame.query_selector("#kysymys") is None
    page.close()
