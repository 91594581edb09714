"""The HTTP API and the widget's headers, on the real app over the ingested starter corpus."""

from __future__ import annotations

import json
import importlib.metadata
import time

import anyio
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from bot.conversation import standalone_question
from bot.service import BotService, IndexStatus
from conftest import make_settings
from ingest.pipeline import ingest
from web.api import STORE_OPENING, AnswerSlots, unavailable_reason
from web.app import create_app
from web.ratelimit import QuestionLimit

QUESTION = "Mitä ilmastolaki vaatii kunnalta?"


def client_for(settings) -> TestClient:
    return TestClient(create_app(BotService(settings, ingest_on_start=False)))


@pytest.fixture(scope="module")
def client(starter_settings):
    with client_for(starter_settings) as client:
        yield client


def sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], fields["data"]))
    return events


def test_ask_returns_the_cli_answer_with_quotes_from_the_cited_chunks(client, answerer):
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    expected = answerer.answer(QUESTION).as_json()
    assert body.keys() == expected.keys()
    assert {k: v for k, v in body.items() if k != "seconds"} == {k: v for k, v in expected.items() if k != "seconds"}
    assert not body["refused"] and body["citations"]
    chunks = answerer.retriever.by_id.values()
    for c in body["citations"]:
        assert f"[{c['n']}]" in body["answer"]
        assert any(c["quote"] in r.text for r in chunks if r.doc_id == c["doc_id"] and r.page == c["page"]), c


@pytest.mark.parametrize("history", [
    [["Mitä ilmastolaki vaatii kunnalta?", "Aineiston mukaan: …"]],
    [{"role": "user", "content": "Mitä ilmastolaki vaatii kunnalta?"}, {"role": "assistant", "content": "…"}],
])
def test_ask_takes_both_history_shapes_and_a_municipality(client, history):
    response = client.post("/api/ask", json={"question": "Entä Laukaassa?", "history": history, "municipality": "Laukaa"})
    assert response.status_code == 200
    assert response.json()["citations"]


@pytest.mark.parametrize("body, field, message", [
    ({}, "question", "Kenttä puuttuu"),
    ({"question": "x" * 501}, "question", "Kysymys on liian pitkä: enintään 500 merkkiä"),
    ({"question": 42}, "question", "Arvon pitää olla merkkijono"),
    ({"question": QUESTION, "history": "ei lista"}, "history", "Arvon pitää olla lista"),
    ({"question": QUESTION, "kunta": "Laukaa"}, "kunta", "Tuntematon kenttä"),
])
def test_bad_input_is_422_naming_the_field_in_finnish_without_echoing_it(client, body, field, message):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field or field in e["loc"] for e in errors), errors
    assert any(message in e["msg"] for e in errors), errors
    assert all("input" not in e for e in errors) and "xxxxx" not in response.text and "42" not in response.text


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize("raw", [
    b'{"question": NaN}',
    b'{"question": "Mit\u00e4 ilmastolaki vaatii?", "history": [[Infinity, "x"]]}',
    b'{"question": -Infinity, "municipality": "Laukaa"}',
    b'{"question": "ilmasto\ud800laki"}',
    b'{"question": "Mit\u00e4 ilmastolaki vaatii?", "municipality": "\udfff"}',
    b'{"question": "Ent\u00e4?", "history": [["\ud800", "vastaus"]]}',
    b'{"question": "Ent\u00e4?", "history": [{"role": "user", "content": "\udbff"}]}',
])
def test_json_that_parses_but_cannot_be_used_is_422_not_500(client, path, raw):
    response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    messages = " ".join(e["msg"] for e in response.json()["detail"])
    assert "Arvon pitää olla merkkijono" in messages or "virheellinen Unicode" in messages
    for echoed in ("NaN", "Infinity", "ud800", "udfff", "udbff", "ilmasto"):
        assert echoed not in response.text


@pytest.mark.parametrize("raw", [
    b"[" * 8_000 + b"]" * 8_000,  # nested deeper than the JSON parser goes, within the body limit
    '{"question": "Mitä ilmastolaki vaatii?"}'.encode("latin-1"),  # not UTF-8
    b'{"question": "Mit',  # cut off
])
def test_a_body_that_is_no_json_is_400_in_finnish(client, raw):
    response = client.post("/api/ask", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Pyynnön runko ei ole kelvollista JSONia (UTF-8-koodattu, enintään "
                                         "kohtuullisen syvä)."}


def test_a_huge_history_is_cut_to_the_question_limit_before_answering(starter_settings):
    service = BotService(starter_settings, ingest_on_start=False)
    seen: list = []
    stream = service.stream
    service.stream = lambda question, municipality, history: seen.append(history) or stream(question, municipality,
                                                                                              history)
    with TestClient(create_app(service)) as client:
        for history in ([["ilmastolaki " * 1300, ""]],  # the probe's request: 15.6 kB, within the body limit
                        [{"role": "user", "content": "ilmastolaki " * 800}, {"role": "assistant", "content": "v " * 2500}]):
            response = client.post("/api/ask", json={"question": "entä?", "history": history})
            assert response.status_code == 200
    assert len(seen) == 2
    for history in seen:
        assert all(len(question) <= 500 and len(answer) <= 2000 for question, answer in history), history


def test_a_rewritten_follow_up_is_no_longer_than_the_question_limit():
    assert len(standalone_question("entä?", [("ilmastolaki " * 1300, "")], max_chars=500)) <= 500
    assert len(standalone_question("Entä Laukaassa?", [("Mitkä ovat Jyväskylän päästöt? " * 40, "")], max_chars=120)) <= 120
    assert standalone_question("Entä Laukaassa?", [("Mitkä ovat Jyväskylän päästöt?", "")]) == "Mitkä ovat Laukaa päästöt?"


def test_too_large_body_is_413_in_finnish(client):
    body = json.dumps({"question": QUESTION, "history": [["kysymys", "vastaus " * 3000]]})
    response = client.post("/api/ask/stream", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "liian suuri" in response.json()["detail"]


def test_stream_sends_tokens_then_the_answer(client):
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"token"} and len(kinds) > 2
    answer = json.loads(events[-1][1])
    assert "".join(json.loads(data) for _, data in events[:-1]) == answer["answer"]
    assert answer["citations"] and not answer["refused"]


def test_health(client, answerer):
    response = client.get("/api/health")
    assert response.status_code == 200
    version = importlib.metadata.version("ilmastobotti")  # what is installed, not a copy of the same constant
    assert response.json() == {"status": "ok", "reason": None, "store": True, "chunks": len(answerer.retriever.records),
                               "dense_ready": True, "version": version}


def test_health_is_503_with_the_reason_while_the_store_is_still_opening():
    assert unavailable_reason(IndexStatus()) == STORE_OPENING
    assert unavailable_reason(IndexStatus(chunks=3, lexical_ready=True, error="embedding failed")) is None


def test_health_is_503_when_the_store_is_empty(tmp_path):
    (tmp_path / "corpus").mkdir()
    settings = make_settings(tmp_path / "data", tmp_path / "corpus")
    ingest(settings, progress=False)
    with client_for(settings) as client:
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert "Aineisto on tyhjä" in response.json()["reason"] and "empty" in response.json()["reason"]


def test_while_the_store_cannot_open_questions_get_503_and_health_says_so(starter_settings, tmp_path):
    blocker = tmp_path / "tiedosto"
    blocker.write_text("")  # the data directory would have to be inside a file
    settings = starter_settings.replace(data_dir=blocker / "data", database_url=f"sqlite:///{tmp_path}/palaute.sqlite3")
    with TestClient(create_app(BotService(settings))) as client:
        response = client.post("/api/ask", json={"question": QUESTION})
        assert response.status_code == 503 and response.headers["retry-after"]
        assert "Aineistoa ladataan vielä" in response.json()["detail"]
        assert client.post("/api/ask/stream", json={"question": QUESTION}).status_code == 503
        deadline = time.monotonic() + 30
        while "ladataan" in (body := client.get("/api/health").json())["reason"] and time.monotonic() < deadline:
            time.sleep(0.1)  # until preparing the store has failed
        assert client.get("/api/health").status_code == 503
        assert body["status"] == "unavailable" and body["store"] is False and body["chunks"] == 0
        assert "Aineiston avaaminen epäonnistui" in body["reason"] and "could not be prepared" in body["reason"]


def test_gradio_shadows_none_of_the_api_paths(client):
    assert set(client.get("/openapi.json").json()["paths"]) == {"/api/ask", "/api/ask/stream", "/api/health"}
    assert "swagger-ui" in client.get("/docs").text
    loader = client.get("/widget.js")
    assert loader.headers["content-type"].startswith("text/javascript") and "attachShadow" in loader.text


def test_rate_limit_is_429_in_finnish_with_retry_after(starter_settings):
    with client_for(starter_settings.replace(rate_limit_per_minute=2)) as client:
        assert [client.post("/api/ask", json={"question": ""}).status_code for _ in range(2)] == [200, 200]
        response = client.post("/api/ask/stream", json={"question": QUESTION})
        assert response.status_code == 429
        assert "Liian monta kysymystä" in response.json()["detail"]
        assert 0 < int(response.headers["retry-after"]) <= 60
        assert client.get("/api/health").status_code == 200  # only questions are limited


def test_widget_may_be_framed_only_by_allowed_origins_and_cors_follows(starter_settings):
    allowed = "https://www.laukaa.fi"
    with client_for(starter_settings.replace(allowed_origins=(allowed + "/",))) as client:
        page = client.get("/widget")
        assert page.status_code == 200
        assert page.headers["content-security-policy"].endswith(f"frame-ancestors 'self' {allowed}")
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "set-cookie" not in page.headers
        assert 'placeholder="Kirjoita kysymys…"' in page.text and 'maxlength="500"' in page.text
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        ok = client.options("/api/ask", headers={"Origin": allowed, **preflight})
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "access-control-allow-credentials" not in ok.headers
        assert "access-control-allow-origin" not in client.options(
            "/api/ask", headers={"Origin": "https://evil.example", **preflight}).headers
        # Gradio's own CORS would echo any origin, with credentials; ours replaces it on every path.
        assert "access-control-allow-origin" not in client.get("/", headers={"Origin": "https://evil.example"}).headers


def test_an_allowed_origin_that_is_no_origin_is_refused(starter_settings):
    with pytest.raises(ValueError, match="ILMASTO_ALLOWED_ORIGINS"):
        create_app(BotService(starter_settings.replace(allowed_origins=("https://a.fi; script-src *",)),
                              ingest_on_start=False))


def test_question_limit_counts_each_address_in_a_moving_minute():
    limit = QuestionLimit(2)
    assert [limit.retry_after("a"), limit.retry_after("a"), limit.retry_after("b")] == [0, 0, 0]
    assert 55 <= limit.retry_after("a") <= 60
    assert limit.retry_after(None) == 0  # an unknown address is one client of its own
    assert QuestionLimit(0).retry_after("a") == 0  # 0 turns the limit off


def test_documents_are_served_inert(small_settings, small_corpus):
    (small_corpus / "sivu.html").write_text(
        "<html><head><title>Sivu</title></head><body><h1>Sivu</h1><p>Kunnan ilmastotyö etenee hyvin tänä vuonna, "
        "kertoo ilmastokoordinaattori.</p><script>alert(document.domain)</script></body></html>", encoding="utf-8")
    ingest(small_settings, progress=False)
    with client_for(small_settings) as client:
        page = client.get("/files/sivu.html")
        assert page.status_code == 200
        assert page.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["content-disposition"].startswith("attachment")
        text = client.get("/files/kunnat/laukaa.md")
        assert text.headers["content-type"] == "text/plain; charset=utf-8"
        assert text.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
        assert text.headers["x-content-type-options"] == "nosniff"
        for path in ("/files/kunnat/laukaa.md%00", "/files/kunnat/laukaa.md%00.pdf", "/files/%00"):
            response = client.get(path)
            assert response.status_code == 404 and response.json() == {"detail": "Asiakirjaa ei löydy."}, path


def test_busy_answer_slots_give_503():
    async def scenario() -> int:
        slots = AnswerSlots(size=1, wait_s=0.05)
        async with slots.held():
            with pytest.raises(HTTPException) as busy:
                await slots.acquire()
        await slots.acquire()  # free again
        return busy.value.status_code

    assert anyio.run(scenario) == 503
