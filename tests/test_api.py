"""The HTTP API and the widget's headers, on the real app over the ingested starter corpus."""

from __future__ import annotations

import json

import anyio
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from bot.service import BotService
from web.api import AnswerSlots, RateLimiter
from web.app import create_app

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
    ({}, "question", "Field required"),
    ({"question": "x" * 501}, "question", "Kysymys on liian pitkä: enintään 500 merkkiä"),
    ({"question": 42}, "question", "valid string"),
    ({"question": QUESTION, "history": "ei lista"}, "history", "valid"),
    ({"question": QUESTION, "kunta": "Laukaa"}, "kunta", "Extra inputs are not permitted"),
])
def test_bad_input_is_422_naming_the_field(client, body, field, message):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field or field in e["loc"] for e in errors), errors
    assert any(message in e["msg"] for e in errors), errors


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
    body = client.get("/api/health").json()
    assert body == {"status": "ok", "store": True, "chunks": len(answerer.retriever.records), "dense_ready": True,
                    "version": body["version"]}


def test_while_the_store_cannot_open_questions_get_503_and_health_says_so(starter_settings, tmp_path):
    blocker = tmp_path / "tiedosto"
    blocker.write_text("")  # the data directory would have to be inside a file
    settings = starter_settings.replace(data_dir=blocker / "data", database_url=f"sqlite:///{tmp_path}/palaute.sqlite3")
    with TestClient(create_app(BotService(settings))) as client:
        response = client.post("/api/ask", json={"question": QUESTION})
        assert response.status_code == 503 and response.headers["retry-after"]
        assert "Aineistoa ladataan vielä" in response.json()["detail"]
        assert client.post("/api/ask/stream", json={"question": QUESTION}).status_code == 503
        health = client.get("/api/health").json()
        assert health["status"] == "ok" and health["store"] is False and health["chunks"] == 0


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


def test_rate_limiter_window_slides():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.retry_after("a"), limiter.retry_after("a"), limiter.retry_after("b")] == [0, 0, 0]
    now[0] = 30.0
    assert limiter.retry_after("a") == 30
    now[0] = 60.5
    assert limiter.retry_after("a") == 0


def test_busy_answer_slots_give_503():
    async def scenario() -> int:
        slots = AnswerSlots(size=1, wait_s=0.05)
        async with slots.held():
            with pytest.raises(HTTPException) as busy:
                await slots.acquire()
        await slots.acquire()  # free again
        return busy.value.status_code

    assert anyio.run(scenario) == 503
