"""The review pages under /admin: behind the admin dependency, escaped, CSRF-checked, doing what they say."""

import re

import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

from bot.questionmatch import QuestionMatcher
from bot.reviewed import SupersededDocuments
from bot.service import BotService
from tests.conftest import make_settings
from tests.test_questionlog import FakeAnswerer, cited_answer
from tests.test_reviewed import WordEmbeddings
from web.admin_review import review_router

TOKEN = "csrf-1234"


def require_admin(authorization: str = Header("")) -> None:
    """Stands in for the admin page's own authentication."""
    if authorization != "Bearer salainen":
        raise HTTPException(status_code=401, detail="Kirjaudu sisään.")


@pytest.fixture
def service(tmp_path, monkeypatch) -> BotService:
    monkeypatch.setattr("bot.service.Answerer", FakeAnswerer)
    service = BotService(make_settings(tmp_path / "data"), ingest_on_start=False)
    service.reviewed._matcher = QuestionMatcher(WordEmbeddings())
    return service


@pytest.fixture
def client(service) -> TestClient:
    app = FastAPI()
    app.include_router(review_router(service, require_admin, lambda: TOKEN))
    return TestClient(app, headers={"Authorization": "Bearer salainen"}, follow_redirects=False)


def test_every_page_needs_the_admin(client):
    for path in ("/admin/questions", "/admin/questions.json", "/admin/gaps.json", "/admin/reviewed", "/admin/superseded"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 401, path
    assert client.post("/admin/superseded", data={"csrf": TOKEN, "doc_id": "a.md"},
                       headers={"Authorization": ""}).status_code == 401


def test_the_log_page_shows_questions_escaped_and_filters_them(client, service):
    service.question_log.record("<script>alert(1)</script> Mistä rahoitusta?", None, cited_answer("refused", None))
    service.question_log.record("Mitkä ovat Laukaan päästöt?", None, cited_answer())
    page = client.get("/admin/questions", params={"outcome": "refused", "days": ""}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Mistä rahoitusta?" in page and "<script>alert" not in page
    assert "Laukaan" not in page.split("<table>")[1]
    rows = client.get("/admin/questions.json", params={"municipality": "Laukaa"}).json()
    assert [(r["question"], r["doc_ids"]) for r in rows] == [("Mitkä ovat Laukaan päästöt?", ["kunnat/laukaa.md", "rahoitus.md"])]


def test_a_form_without_the_right_csrf_token_changes_nothing(client, service):
    response = client.post("/admin/superseded", data={"csrf": "väärä", "doc_id": "a.md"})
    assert response.status_code == 403 and "Lomakkeen tarkiste ei kelpaa" in response.json()["detail"]
    assert client.post("/admin/superseded", data={"doc_id": "a.md"}).status_code == 403
    assert SupersededDocuments(service.settings).superseded_doc_ids() == frozenset()


def test_a_reviewer_marks_citations_and_writes_a_reviewed_answer_that_is_then_given(client, service):
    log_id = service.question_log.record("Mistä saamme rahoitusta?", None, cited_answer("partial", 0.86))
    page = client.get(f"/admin/questions/{log_id}").text
    assert f'value="{TOKEN}"' in page and "Ympäristöministeriö myöntää avustuksia." in page  # form prefilled
    assert client.post(f"/admin/questions/{log_id}/citations/2", data={"csrf": TOKEN, "correct": "0"}).status_code == 303
    assert service.question_log.get(log_id).reviews == {2: False}
    assert "merkitty <strong>vääräksi</strong>" in client.get(f"/admin/questions/{log_id}").text
    form = {"csrf": TOKEN, "question": "Mistä saamme rahoitusta?", "answer": "Ympäristöministeriö avustaa [1].",
            "municipality": "", "doc_id": ["rahoitus.md", ""], "title": ["Rahoitus", ""],
            "quote": ["Ympäristöministeriö myöntää avustuksia.", ""], "page": ["2", ""], "source_url": ["", ""]}
    assert client.post("/admin/reviewed", data=form).status_code == 303
    answer = service.answer("Mistä saamme rahoitusta?")
    assert answer.answer == "Ympäristöministeriö avustaa [1]." and answer.notices[0].startswith("Tarkistettu vastaus (")
    [listed] = client.get("/admin/reviewed.json").json()
    assert listed["citations"][0]["page"] == 2
    assert client.post(f"/admin/reviewed/{listed['id']}/withdraw", data={"csrf": TOKEN}).status_code == 303
    assert service.answer("Mistä saamme rahoitusta?").notices == []
    assert "peruttu" in client.get("/admin/reviewed").text


def test_an_incomplete_reviewed_answer_is_shown_back_with_a_finnish_error(client, service):
    form = {"csrf": TOKEN, "question": "Mistä rahoitusta?", "answer": "<b>Vastaus</b>", "doc_id": ["", ""],
            "title": ["", ""], "quote": ["", ""], "page": ["", ""], "source_url": ["", ""]}
    response = client.post("/admin/reviewed", data=form)
    assert response.status_code == 422
    assert "Vastaus tarvitsee vähintään yhden lähteen" in response.text and "&lt;b&gt;Vastaus&lt;/b&gt;" in response.text
    assert service.reviewed.all() == []


def test_documents_are_marked_superseded_and_back_from_the_page(client, service):
    assert client.post("/admin/superseded", data={"csrf": TOKEN, "doc_id": "kunnat/laukaa.md"}).status_code == 303
    assert client.get("/admin/superseded.json").json() == ["kunnat/laukaa.md"]
    assert "kunnat/laukaa.md" in client.get("/admin/superseded").text
    client.post("/admin/superseded/unmark", data={"csrf": TOKEN, "doc_id": "kunnat/laukaa.md"})
    assert client.get("/admin/superseded.json").json() == []


def test_the_gap_report_page_and_json(client, service):
    for question in ("Mistä saamme rahoitusta?", "Mistä saamme rahoitusta"):
        service.question_log.record(question, None, cited_answer("refused", None))
    report = client.get("/admin/gaps.json", params={"days": 7}).json()
    assert report["groups"][0]["count"] == 2 and report["counts"]["refused"] == 2
    page = client.get("/admin/gaps").text
    assert re.search(r"<td>2</td><td>ei vastausta</td>", page) and "Kysymyksiä 2:" in page
