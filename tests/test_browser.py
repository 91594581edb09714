"""End to end in real headless Chromium: a conversation in the chat window, cited answers, opening a source."""

from __future__ import annotations

import time

import pytest

from bot.answer_types import Answer, Citation, Final, TextPiece
from bot.service import BotService
from bot.settings import PROJECT_ROOT
from tests.browser import blocking_violations, chromium, serve
from web.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# A question, a follow-up that only makes sense after it, and an unrelated question.
CONVERSATION = [
    ("Mitkä ovat Jyväskylän suurimmat päästölähteet?", "Jyväskylä"),
    ("Entä Laukaassa?", "Laukaa"),
    ("Mikä on Hinku-verkosto?", "Hinku"),
]
ANSWERS = "#keskustelu .bot-row"
# n answers shown, the last one cited (its first marker links to its source card)
CITED_ANSWERS = f"""n => {{ const rows = document.querySelectorAll("{ANSWERS}");
  return rows.length === n && !!rows[n - 1].querySelector("a[href='#lahde-1']"); }}"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def ask(page, question: str, answers_before: int) -> str:
    """Types the question, waits for its cited answer, and returns the sources panel's text."""
    page.fill("#kysymys textarea", question)
    page.press("#kysymys textarea", "Enter")
    page.wait_for_function(CITED_ANSWERS, arg=answers_before + 1, timeout=90_000)
    return page.inner_text("#lahteet")


def test_a_three_turn_conversation_is_answered_and_cited(live_app, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_app, wait_until="load")
    page.wait_for_selector("#kysymys textarea")
    for turn, (question, expected) in enumerate(CONVERSATION):
        sources = ask(page, question, turn)
        assert expected in sources, (question, sources)  # the follow-up is about Laukaa, not Jyväskylä
        assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    chat = page.inner_text("#keskustelu")
    for question, _ in CONVERSATION:
        assert question in chat
    assert page.locator(ANSWERS).count() == len(CONVERSATION)
    assert all(row.locator("a[href='#lahde-1']").count() for row in page.locator(ANSWERS).all())
    assert not errors, errors
    page.close()


def test_ask_see_cited_answer_and_open_source(live_app, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(live_app, wait_until="load")
    page.wait_for_selector("#kysymys textarea")
    assert "180 päivää" in page.inner_text("#tietosuoja") and "henkilötietoja" in page.inner_text("#tietosuoja")
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
    page.close()


def test_after_a_restart_on_a_ready_store_the_status_line_says_ready(starter_settings, browser):
    service = BotService(starter_settings)  # as `python ui.py` starts: the page is built while the store opens
    app = serve(create_app(service))
    base = next(app)
    try:
        deadline = time.monotonic() + 120
        while not service.status.dense_ready and time.monotonic() < deadline:
            time.sleep(0.2)
        page = browser.new_page()
        page.goto(base, wait_until="load")
        page.wait_for_selector("#tila")
        page.wait_for_function("document.querySelector('#tila').innerText.includes('Aineisto valmiina')",
                               timeout=2_000)  # at once, not at some later tick of a timer
        page.close()
    finally:
        next(app, None)


def test_example_chip_fills_the_question(live_app, browser):
    page = browser.new_page()
    page.goto(live_app, wait_until="load")
    page.wait_for_selector("#kysymys textarea")
    page.get_by_text("Mikä on Hinku-verkosto?").first.click()
    page.wait_for_function("document.querySelector('#kysymys textarea').value.includes('Hinku')")
    page.close()


def test_the_chat_page_has_no_serious_accessibility_violations(live_app, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(live_app, wait_until="load")
    page.wait_for_selector("#kysymys textarea")
    ask(page, "Mitä ilmastolaki vaatii kunnalta?", 0)  # with an answer and its sources on the page
    assert not (found := blocking_violations(page)), "\n".join(found)
    page.close()


URL_ANSWER = "Lisätietoja: https://evil.example/polku, www.evil.example ja posti@evil.example [1]."


def scripted_stream(self, question, municipality=None, history=None):
    """An answer whose text carries bare addresses, as a document's sentence may."""
    citation = Citation(n=1, doc_id="kunnat/laukaa.md", title="Laukaa", page=None, municipality="Laukaa",
                        source_url=None, quote=URL_ANSWER, chunk_text=URL_ANSWER, highlights=[URL_ANSWER],
                        relevance=1.0)
    yield TextPiece(URL_ANSWER)
    yield Final(Answer(URL_ANSWER, refused=False, citations=[citation]))


def test_bare_addresses_in_an_answer_are_text_not_links(starter_settings, browser, monkeypatch):
    service = BotService(starter_settings, ingest_on_start=False)
    monkeypatch.setattr(service, "stream", scripted_stream.__get__(service))
    app = serve(create_app(service))
    base = next(app)
    try:
        page = browser.new_page()
        page.goto(base, wait_until="load")
        page.wait_for_selector("#kysymys textarea")
        ask(page, "Mistä saan lisätietoja?", 0)
        assert "https://evil.example/polku" in page.inner_text("#keskustelu")
        assert "posti@evil.example" in page.inner_text("#keskustelu")
        links = page.eval_on_selector_all("#keskustelu a", "links => links.map(a => a.getAttribute('href'))")
        assert links and set(links) == {"#lahde-1"}, links
        page.close()
    finally:
        next(app, None)
