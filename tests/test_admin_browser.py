"""The admin page in real headless Chromium: log in, upload a document, run an ingest and watch its progress."""

from __future__ import annotations


import pytest

from bot.settings import PROJECT_ROOT
from tests.browser import chromium
from tests.conftest import serve_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TOKEN = "selaintesti-0123456789"


@pytest.fixture
def admin_app(small_settings):
    yield from serve_app(small_settings.replace(admin_token=TOKEN))


def test_log_in_upload_and_ingest_with_progress(admin_app, tmp_path):
    document = tmp_path / "Uuraisten aurinkokatot.md"
    document.write_text("# Uuraisten aurinkokatot\n\nUurainen asentaa aurinkopaneelit kolmen koulun katolle.\n",
                        encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{admin_app}/admin")
        page.fill("#token", TOKEN)
        page.click("text=Kirjaudu sisään")
        page.wait_for_selector("text=Aineiston tila")
        problems.clear()  # the login page itself is a 401, which Chromium logs
        assert page.inner_text("#asiakirjoja") == "3"

        page.set_input_files("#file", str(document))
        page.fill("#folder", "omat")
        page.fill("#title", "Uuraisten aurinkokatot")
        page.select_option("#municipality", "Uurainen")
        page.click("text=Tallenna asiakirja")
        page.wait_for_selector("text=Asiakirja tallennettiin")
        assert "Ei vielä haussa" in page.inner_text("table.asiakirjat")

        page.click("#paivita")
        page.wait_for_selector("#edistymisteksti:not(:empty)")
        progress = page.inner_text("#edistymisteksti")
        assert progress.startswith(("Luetaan tiedostoja", "Lasketaan upotuksia", "Tarkistetaan", "Päivitys valmis")), progress
        page.wait_for_selector("#edistyminen[data-state='done']", state="attached", timeout=180_000)
        assert page.inner_text("#asiakirjoja") == "4"
        row = page.inner_text("table.asiakirjat tr:has-text('omat/uuraisten-aurinkokatot.md')")
        assert "Uuraisten aurinkokatot" in row and "Uurainen" in row and "Haussa" in row
        assert "Lisätty 4" in page.inner_text("main")  # the app was started without its own ingest
        page.screenshot(path=str(PROJECT_ROOT / "docs" / "admin.png"), full_page=True)
        assert not problems, problems  # e.g. nothing blocked by the page's Content Security Policy
