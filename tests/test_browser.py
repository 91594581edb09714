"""End to end in real headless Chromium: ask in the chat window, see the cited answer, open a source."""

from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT
from tests.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_ask_see_cited_answer_and_open_source(live_app):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(live_app, wait_until="load")
        page.wait_for_selector("#kysymys textarea")
        page.fill("#kysymys textarea", "Mitkä ovat Laukaan suurimmat päästölähteet?")
        page.click("#laheta")
        marker = page.wait_for_selector("#keskustelu a[href='#lahde-1']", timeout=60_000)
        answer = page.inner_text("#keskustelu")
        assert "Laukaa" in answer and "[1]" in answer
        card = page.wait_for_selector("#lahteet #lahde-1")
        assert "Laukaa" in card.inner_text()
        marker.click()
        page.wait_for_selector("#lahde-1.valittu")
        (PROJECT_ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(PROJECT_ROOT / "docs" / "chat.png"), full_page=True)
        with page.context.expect_page() as opened:
            card.query_selector("a:has-text('Avaa asiakirja')").click()
        source = opened.value
        source.wait_for_load_state("load")
        assert "/files/kunnat/laukaa.md" in source.url
        assert "Laukaa" in source.content()


def test_example_chip_fills_the_question(live_app):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(live_app, wait_until="load")
        page.wait_for_selector("#kysymys textarea")
        page.get_by_text("Mikä on Hinku-verkosto?").first.click()
        page.wait_for_function("document.querySelector('#kysymys textarea').value.includes('Hinku')")
