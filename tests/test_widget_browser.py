"""The widget in real headless Chromium: the app on one loopback port, host pages on others.

The example page (examples/host-page.html) is served from an origin in allowed_origins and from one that is
not; only the first may show the chat.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from conftest import serve_app  # the session's conftest module (tests/ is on sys.path)
from tests.browser import blocking_violations, chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EXAMPLE = PROJECT_ROOT / "examples" / "host-page.html"
SCREENSHOT = PROJECT_ROOT / "docs" / "widget.png"
QUESTION = "Mitä ilmastolaki vaatii kunnalta?"
# A question, a follow-up that only makes sense after it, and an unrelated question; the municipality that each
# answer's sources must name.
CONVERSATION = [
    ("Mitkä ovat Jyväskylän suurimmat päästölähteet?", "Jyväskylä"),
    ("Entä Laukaassa?", "Laukaa"),
    ("Mikä on Hinku-verkosto?", "Hinku"),
]
# On the example page the widget prefers Laukaa's material, so the conversation starts region-wide.
HOST_CONVERSATION = [
    ("Mitä ilmastolaki vaatii kunnalta?", "ilmasto"),
    ("Entä Laukaassa?", "Laukaa"),
    ("Mikä on Hinku-verkosto?", "Hinku"),
]
OPENED_FRAME = ("() => { const inner = document.activeElement && document.activeElement.shadowRoot;"
                " return !!inner && !!inner.activeElement && inner.activeElement.tagName === 'IFRAME'; }")
FOCUSED_BUTTON = ("() => { const inner = document.activeElement && document.activeElement.shadowRoot;"
                  " return !!inner && !!inner.activeElement && inner.activeElement.tagName === 'BUTTON'; }")


class HostSite(ThreadingHTTPServer):
    """A host page on its own loopback port (its own origin), served from a thread."""

    page = b""

    def __init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def sites(starter_settings):
    """(app URL, allowed host page URL, other host page URL): the example page with the app's address in it."""
    allowed, other = HostSite(), HostSite()
    app = serve_app(starter_settings.replace(allowed_origins=(allowed.origin,)))
    app_url = next(app)
    for site in (allowed, other):
        site.page = EXAMPLE.read_bytes().replace(b"http://127.0.0.1:7860", app_url.encode())
    yield app_url, allowed.origin + "/host-page.html", other.origin + "/host-page.html"
    next(app, None)  # stops the app
    for site in (allowed, other):
        site.shutdown()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def open_widget(page, url: str):
    page.goto(url, wait_until="load")
    button = page.locator("button[aria-controls]")  # Playwright's CSS pierces the open shadow root
    button.wait_for()
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    return button


def converse(chat, conversation: list[tuple[str, str]]) -> None:
    """The turns in the chat of one frame (or page), each answer cited, its sources naming what was asked about."""
    for turn, (question, expected) in enumerate(conversation):
        box = chat.locator("#kysymys")
        box.fill(question)
        box.press("Enter")
        answer = chat.locator(".vastaus").nth(turn)
        answer.locator(".lahteet li").first.wait_for(timeout=90_000)
        text = answer.inner_text()
        assert "[1]" in text and expected in answer.locator(".lahteet").inner_text(), (question, text)
    assert chat.locator(".virhe").count() == 0
    assert chat.locator(".kysymys").all_inner_texts() == [q for q, _ in conversation]


def test_a_three_turn_conversation_in_the_widget_page(sites, browser):
    app_url, _, _ = sites
    page = browser.new_page()
    page.goto(app_url + "/widget", wait_until="load")
    page.locator("#kysymys").wait_for()
    assert "180 päivää" in page.inner_text("#tietosuoja")
    converse(page, CONVERSATION)
    page.close()


def test_a_three_turn_conversation_in_the_widget_on_the_host_page(sites, browser):
    _, host_url, _ = sites
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_widget(page, host_url)
    chat = page.frame_locator("iframe[title='Laukaan ilmastobotti']")
    chat.locator("#kysymys:focus").wait_for()
    converse(chat, HOST_CONVERSATION)
    page.close()


def test_the_widget_has_no_serious_accessibility_violations(sites, browser):
    app_url, host_url, _ = sites
    context = browser.new_context(bypass_csp=True)  # axe-core is injected as a script the page's CSP does not list
    page = context.new_page()
    page.goto(app_url + "/widget", wait_until="load")
    page.locator("#kysymys").fill(QUESTION)
    page.locator("#kysymys").press("Enter")
    page.locator(".vastaus .lahteet li").first.wait_for(timeout=90_000)
    assert not (found := blocking_violations(page)), "\n".join(found)
    open_widget(page, host_url)
    page.wait_for_function(OPENED_FRAME)
    frame = page.frame_locator("iframe[title='Laukaan ilmastobotti']")
    frame.locator("#kysymys").wait_for()
    assert not (found := blocking_violations(page)), "\n".join(found)
    inner = next(f for f in page.frames if f.url.startswith(app_url + "/widget"))
    assert not (found := blocking_violations(inner)), "\n".join(found)
    context.close()


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
    original = chat.locator(".lahteet a", has_text="Alkuperäinen lähde").first  # the public source, when http(s)
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
