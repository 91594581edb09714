"""The admin page: closed without a token, only its holder gets in, forms are CSRF-checked, uploads are checked,
ingest runs with progress, and feedback is listed and exported safely."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import tomllib
from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fpdf import FPDF
from sqlalchemy import update

import web.admin_auth
from bot.feedback import FeedbackStore, feedback_table
from bot.questionlog import QuestionLog
from bot.reviewed import ReviewedAnswers
from bot.service import BotService, IndexStatus
from ingest.loaders import split_front_matter
from web.admin import admin_router, csv_cell
from web.admin_corpus import REPORT_FILE
from web.app import create_app

TOKEN = "testitunnus-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


class FakeService:
    """What the admin page needs of the service, without opening a store."""

    def __init__(self, settings):
        self.settings = settings
        self.status = IndexStatus(lexical_ready=True)
        self.preparing = False
        self.question_log, self.reviewed = QuestionLog(settings), ReviewedAnswers(settings)


def admin_client(settings, token: str | None = TOKEN) -> TestClient:
    app = FastAPI()
    app.include_router(admin_router(FakeService(settings.replace(admin_token=token))))
    return TestClient(app)


@pytest.fixture
def client(small_settings) -> TestClient:
    return admin_client(small_settings)


def log_in(client: TestClient) -> str:
    """Log in with the form; returns the CSRF token of the session."""
    response = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert response.status_code == 303
    return csrf_of(client.get("/admin").text)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


# ---------------------------------------------------------------- who gets in


def test_without_a_token_every_admin_path_is_404(small_settings):
    client = admin_client(small_settings, token=None)
    assert client.get("/admin").status_code == 404
    assert client.post("/admin/login", data={"token": "mitä tahansa"}).status_code == 404
    assert client.get("/admin/feedback.csv", headers=BEARER).status_code == 404
    assert client.get("/admin/static/admin.js").status_code == 404


def test_a_short_token_stops_the_app(small_settings):
    with pytest.raises(ValueError, match="ILMASTO_ADMIN_TOKEN"):
        admin_client(small_settings, token="lyhyt")


def test_strangers_get_401_and_the_login_form(client):
    page = client.get("/admin")
    assert page.status_code == 401 and "Kirjaudu sisään" in page.text and "Asiakirjat" not in page.text
    assert client.get("/admin/ingest/status").status_code == 401
    wrong = client.get("/admin/feedback.csv", headers={"Authorization": "Bearer vaara-tunnus-123456"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Väärä tunnus."
    assert client.post("/admin/login", data={"token": "väärä"}).status_code == 401


def test_scripts_get_in_with_the_bearer_token(client):
    response = client.get("/admin/ingest/status", headers=BEARER)
    assert response.status_code == 200 and response.json()["state"] == "idle"


def test_login_sets_a_strict_httponly_expiring_cookie(client):
    response = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/admin", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower(), cookie
    page = client.get("/admin")
    assert page.status_code == 200 and "Aineiston tila" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_a_forged_or_expired_cookie_is_not_a_session(client, monkeypatch):
    log_in(client)
    value = client.cookies.get("ilmasto_admin")
    client.cookies.clear()
    client.cookies.set("ilmasto_admin", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/admin").status_code == 401
    client.cookies.clear()
    client.cookies.set("ilmasto_admin", value)
    assert client.get("/admin").status_code == 200
    monkeypatch.setattr(web.admin_auth, "SESSION_S", -1)
    assert client.get("/admin").status_code == 401


def test_failed_attempts_are_limited_even_for_the_right_token_afterwards(client):
    for _ in range(web.admin_auth.FAILED_ATTEMPTS_PER_MINUTE):
        assert client.post("/admin/login", data={"token": "arvaus"}).status_code == 401
    locked = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert locked.status_code == 429 and "Liian monta väärää yritystä" in locked.text
    assert client.get("/admin/ingest/status", headers=BEARER).status_code == 429


# ---------------------------------------------------------------- CSRF


def test_posts_need_the_session_csrf_token_and_the_own_origin(client):
    csrf = log_in(client)
    missing = client.post("/admin/remove", data={"doc_id": "rahoitus.md"})
    assert missing.status_code == 403 and "tarkiste" in missing.json()["detail"]
    assert client.post("/admin/remove", data={"doc_id": "rahoitus.md", "csrf": "x" + csrf}).status_code == 403
    foreign = client.post("/admin/remove", data={"doc_id": "ei-ole.md", "csrf": csrf},
                          headers={"Origin": "https://pahantekija.example"})
    assert foreign.status_code == 403 and "toiselta sivustolta" in foreign.json()["detail"]
    own = client.post("/admin/remove", data={"doc_id": "ei-ole.md", "csrf": csrf},
                      headers={"Origin": str(client.base_url)})
    assert own.status_code == 404 and "Asiakirjaa ei löydy" in own.text  # past the checks: nothing to remove


def test_logout_ends_the_session(client):
    csrf = log_in(client)
    response = client.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and 'ilmasto_admin=""' in response.headers["set-cookie"]
    assert client.get("/admin").status_code == 401


# ---------------------------------------------------------------- uploads


def upload(client, csrf, name: str, data: bytes, **fields):
    form = {"csrf": csrf, "folder": "omat", "doc_type": "materiaali", **fields}
    return client.post("/admin/upload", data=form, files={"file": (name, data)}, follow_redirects=False)


def test_a_markdown_upload_gets_its_metadata_as_front_matter(client, small_settings):
    csrf = log_in(client)
    text = "---\ntitle: Vanha otsikko\nextra: säilyy\n---\n# Laukaan ohjelma\n\nLaukaa vähentää päästöjä.\n"
    response = upload(client, csrf, "Laukaan Ohjelma 2030.md", text.encode(), title="Laukaan ilmasto-ohjelma",
                      municipality="laukaan", date="2025", source_url="https://www.laukaa.fi/", checked="2026-11-30")
    assert response.status_code == 303 and response.headers["location"] == "/admin?viesti=tallennettu"
    saved = small_settings.corpus_dir / "omat" / "laukaan-ohjelma-2030.md"
    front, body = split_front_matter(saved.read_text(encoding="utf-8"))
    assert front == {"title": "Laukaan ilmasto-ohjelma", "extra": "säilyy", "municipality": "Laukaa",
                     "doc_type": "materiaali", "date": "2025", "source_url": "https://www.laukaa.fi/",
                     "checked": "2026-11-30"}
    assert "Laukaa vähentää päästöjä." in body
    page = client.get("/admin?viesti=tallennettu").text
    assert "Asiakirja tallennettiin" in page and "omat/laukaan-ohjelma-2030.md" in page and "Ei vielä haussa" in page


def test_a_pdf_upload_gets_a_sources_toml_entry_and_the_comments_stay(client, small_settings):
    sidecar = small_settings.corpus_dir / "sources.toml"
    sidecar.write_text('# Metadata for files without front matter.\n\n["vanha.pdf"]\ntitle = "Vanha"\n', encoding="utf-8")
    csrf = log_in(client)
    data = pdf_bytes("Joutsan energiatehokkuusohjelma vähentää lämmityksen päästöjä vuoteen 2030 mennessä.")
    assert upload(client, csrf, "ohjelma.pdf", data, title="Joutsan ohjelma", municipality="Joutsa").status_code == 303
    assert (small_settings.corpus_dir / "omat" / "ohjelma.pdf").read_bytes() == data
    text = sidecar.read_text(encoding="utf-8")
    assert text.startswith("# Metadata for files without front matter.")
    entries = tomllib.loads(text)
    assert entries["vanha.pdf"] == {"title": "Vanha"}
    assert entries["omat/ohjelma.pdf"] == {"title": "Joutsan ohjelma", "municipality": "Joutsa", "doc_type": "materiaali"}


@pytest.mark.parametrize("name, data, status, message", [
    ("ohjelma.exe", b"MZ\x90\x00", 415, "Tiedostotyyppiä ei tueta"),
    ("ohjelma.pdf", "Tämä on tekstiä eikä PDF.".encode(), 415, "ei vastaa päätettä .pdf"),
    ("ohjelma.docx", b"%PDF-1.4 ei docx", 415, "ei vastaa päätettä .docx"),
    ("sivu.html", "pelkkää tekstiä ilman ainuttakaan tagia".encode(), 415, "ei vastaa päätettä .html"),
    ("teksti.txt", b"\x00\x01\x02binaaria", 415, "ei vastaa päätettä .txt"),
    ("kuva.pdf", None, 422, "Tiedostosta ei saatu tekstiä: no text layer"),
    ("tyhja.md", b"", 400, "Tiedosto on tyhjä"),
    ("....md", b"# Otsikko\n\nTeksti.", 400, "Tiedoston nimessä pitää olla"),
])
def test_bad_uploads_are_refused_with_the_reason_and_nothing_is_saved(client, small_settings, name, data, status, message):
    if data is None:  # a PDF without a text layer
        pdf = FPDF()
        pdf.add_page()
        data = bytes(pdf.output())
    before = sorted(small_settings.corpus_dir.rglob("*"))
    response = upload(client, log_in(client), name, data)
    assert response.status_code == status and message in response.text
    assert sorted(small_settings.corpus_dir.rglob("*")) == before


def test_an_upload_over_max_file_mb_is_413(small_settings):
    client = admin_client(small_settings.replace(max_file_mb=0.001))
    response = upload(client, log_in(client), "iso.md", b"# Iso\n\n" + b"sana " * 400)
    assert response.status_code == 413 and "liian suuri" in response.text


def test_names_with_paths_stay_inside_the_corpus_folder(client, small_settings, tmp_path):
    csrf = log_in(client)
    response = upload(client, csrf, "../../../pahis.md", b"# Pahis\n\nTeksti.", folder="../../ulos")
    assert response.status_code == 303
    assert (small_settings.corpus_dir / "ulos" / "pahis.md").is_file()
    assert not list(tmp_path.glob("pahis*")) and not (tmp_path / "ulos").exists()


def test_an_existing_file_is_replaced_only_when_asked(client, small_settings):
    csrf = log_in(client)
    assert upload(client, csrf, "rahoitus.md", b"# Uusi\n\nUusi teksti.", folder="").status_code == 400
    first = upload(client, csrf, "a.md", b"# A\n\nEnsimmainen.")
    again = upload(client, csrf, "a.md", b"# A\n\nToinen.")
    assert first.status_code == 303 and again.status_code == 409 and "Samanniminen" in again.text
    assert upload(client, csrf, "a.md", b"# A\n\nToinen.", replace="1").status_code == 303
    assert "Toinen." in (small_settings.corpus_dir / "omat" / "a.md").read_text(encoding="utf-8")


def test_what_files_and_reports_say_is_shown_as_text_never_as_html(client, small_settings):
    evil = "<script>alert(1)</script>"
    (small_settings.data_dir / REPORT_FILE).write_text(json.dumps({
        "state": "failed", "error": evil, "report": {"added": 0, "updated": 0, "removed": 0, "unchanged": 0,
                                                     "skipped": [{"path": "<b>x.pdf</b>", "reason": evil}]}}))
    log_in(client)
    page = client.get("/admin").text
    assert evil not in page and "<b>x.pdf" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;x.pdf&lt;/b&gt;" in page


# ---------------------------------------------------------------- feedback


@pytest.fixture
def feedback(small_settings) -> FeedbackStore:
    store = FeedbackStore(small_settings.feedback_url)
    store.add("up", "Mitä ilmastolaki vaatii?", "Aineiston mukaan …", [{"doc_id": "rahoitus.md"}])
    store.add("down", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"https://paha.example\")", [], "-2+3 ei auttanut")
    old = store.add("down", "Vanha kysymys Laukaasta", "Vastaus", [], "@SUM(A1)")
    with store.engine.begin() as conn:
        conn.execute(update(feedback_table).where(feedback_table.c.id == old)
                     .values(created_at=datetime.now(timezone.utc) - timedelta(days=40)))
    return store


def test_feedback_is_listed_with_filters_and_escaped(client, feedback):
    log_in(client)
    page = client.get("/admin/feedback").text
    assert "3 palautetta" in page and "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "1 palautetta" in client.get("/admin/feedback?arvio=up").text
    recent = (datetime.now(timezone.utc) - timedelta(days=7)).date().isoformat()
    filtered = client.get("/admin/feedback", params={"arvio": "down", "alkaen": recent}).text
    assert "1 palautetta" in filtered and "Vanha kysymys" not in filtered
    assert "Vanha kysymys" in client.get("/admin/feedback", params={"teksti": "laukaasta"}).text


def test_feedback_csv_has_every_row_and_no_live_formulas(client, feedback):
    response = client.get("/admin/feedback.csv", headers=BEARER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["id", "aika", "arvio", "kysymys", "vastaus", "kommentti", "lähteet"]
    assert len(rows) - 1 == len(feedback.all())  # rows lost: zero
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    assert "'=HYPERLINK(\"https://paha.example\")" in cells and "'@SUM(A1)" in cells and "'-2+3 ei auttanut" in cells
    only_up = client.get("/admin/feedback.csv?arvio=up", headers=BEARER).content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(only_up)))) == 2


@pytest.mark.parametrize("value, cell", [("=1+1", "'=1+1"), ("+358", "'+358"), ("\tx", "'\tx"), ("kunta", "kunta"),
                                         (None, ""), (7, "7")])
def test_csv_cells_that_look_like_formulas_become_text(value, cell):
    assert csv_cell(value) == cell


# ---------------------------------------------------------------- the real service: upload, ingest, remove


def wait_for_ingest(client: TestClient, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        state = client.get("/admin/ingest/status").json()
        seen.append(state["state"])
        if state["state"] not in ("running", "idle"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"ingest did not finish: {seen[-5:]}")


@pytest.mark.slow
def test_upload_ingest_answer_and_remove_on_the_real_service(small_settings):
    settings = small_settings.replace(admin_token=TOKEN)
    service = BotService(settings, ingest_on_start=False)
    app = FastAPI()
    app.include_router(admin_router(service))
    client = TestClient(app)
    csrf = log_in(client)
    text = "# Muuramen aurinkovoima\n\nMuurame rakentaa aurinkovoimalan koulun katolle vuonna 2026.\n"
    assert upload(client, csrf, "aurinko.md", text.encode(), municipality="Muurame").status_code == 303

    started = client.post("/admin/ingest", data={"csrf": csrf}, follow_redirects=False)
    assert started.headers["location"] == "/admin?viesti=paivitys"
    again = client.post("/admin/ingest", data={"csrf": csrf}, follow_redirects=False)
    assert again.headers["location"] == "/admin?viesti=kaynnissa"  # one ingest at a time
    state = wait_for_ingest(client)
    assert state["state"] == "done" and state["report"]["added"] == 4 and not state["report"]["skipped"]
    assert (settings.data_dir / REPORT_FILE).is_file()
    answer = service.answer("Mihin Muurame rakentaa aurinkovoimalan?")
    assert any(c.doc_id == "omat/aurinko.md" for c in answer.citations), answer.answer
    page = client.get("/admin").text
    assert "Lisätty 4" in page and "Muuramen aurinkovoima" in page and "Haussa" in page

    removed = client.post("/admin/remove", data={"csrf": csrf, "doc_id": "omat/aurinko.md"}, follow_redirects=False)
    assert removed.headers["location"] == "/admin?viesti=poistettu"
    assert wait_for_ingest(client)["report"]["removed"] == 1
    assert not (settings.corpus_dir / "omat" / "aurinko.md").exists()
    assert "omat/aurinko.md" not in {r.doc_id for r in service.answerer.retriever.records}
    assert service.status.chunks == len(service.answerer.retriever.records)


@pytest.mark.slow
def test_the_app_serves_admin_only_with_a_token_and_the_public_pages_never_link_to_it(small_settings):
    closed = TestClient(create_app(BotService(small_settings, ingest_on_start=False)))
    assert closed.get("/admin").status_code == 404
    app = TestClient(create_app(BotService(small_settings.replace(admin_token=TOKEN), ingest_on_start=False)))
    assert app.get("/admin").status_code == 401
    assert app.get("/admin/ingest/status", headers=BEARER).status_code == 200
    for public in ("/", "/widget", "/widget.js", "/openapi.json"):
        response = app.get(public)
        assert response.status_code == 200 and "/admin" not in response.text, public
