"""One question limit for every way in: the chat's Gradio queue, its (unpublished) Gradio API and /api/*, and
the same limit across app processes when it lives in Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from conftest import seed_cache, serve_app
from tests.gradio_queue import ask_through_the_queue, chat_dependency
from tests.services_redis import free_port, redis_url  # noqa: F401  (a fixture)
from web.ratelimit import RATE_LIMITED

pytestmark = pytest.mark.slow

QUESTION = "Mitä ilmastolaki vaatii kunnalta?"
LIMIT = 3


@pytest.fixture(scope="module")
def limited_app(starter_settings):
    app = serve_app(starter_settings.replace(rate_limit_per_minute=LIMIT))
    yield next(app)
    next(app, None)


def test_the_chat_publishes_no_gradio_api(limited_app):
    info = httpx.get(f"{limited_app}/gradio_api/info").json()
    assert not info.get("named_endpoints") and not info.get("unnamed_endpoints"), info
    for name in ("ask", "respond", "predict", "false", "false_1"):
        response = httpx.post(f"{limited_app}/gradio_api/call/{name}", json={"data": [QUESTION, None, "Laukaa"]})
        assert response.status_code == 404, (name, response.text)
        assert response.json() == {"detail": "Sivua ei löydy."}


def test_flooding_the_gradio_queue_meets_the_same_limit_as_the_api(limited_app):
    fn_index = chat_dependency(limited_app)
    answers = [ask_through_the_queue(limited_app, fn_index, QUESTION) for _ in range(LIMIT)]
    assert all("#lahde-1" in a for a in answers), answers  # cited answers within the limit
    assert "Liian monta kysymystä" in ask_through_the_queue(limited_app, fn_index, QUESTION)
    api = httpx.post(f"{limited_app}/api/ask", json={"question": QUESTION})  # the same address, the same count
    assert api.status_code == 429 and api.json()["detail"] == RATE_LIMITED


def test_the_gradio_queue_has_the_body_limit_of_the_api(limited_app):
    response = httpx.post(f"{limited_app}/gradio_api/queue/join", json={
        "data": ["ilmasto " * 5000, None, "Koko Keski-Suomi"], "fn_index": chat_dependency(limited_app),
        "session_hash": uuid.uuid4().hex, "event_data": None, "trigger_id": None})
    assert response.status_code == 413 and "liian suuri" in response.json()["detail"]


def start_app(port: int, data_dir, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "ui.py", "--host", "127.0.0.1", "--port", str(port),
                             "--data-dir", str(data_dir)], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until_answering(base: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base} did not become ready")


def test_two_app_processes_share_one_limit_through_redis(redis_url, small_corpus, tmp_path):  # noqa: F811
    env = {**os.environ, "ILMASTO_REDIS_URL": redis_url, "ILMASTO_RATE_LIMIT_PER_MINUTE": str(LIMIT),
           "ILMASTO_CORPUS_DIR": str(small_corpus)}
    processes, bases = [], []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path / name
            seed_cache(data_dir)
            port = free_port()
            processes.append(start_app(port, data_dir, env))
            bases.append(f"http://127.0.0.1:{port}")
        for base, process in zip(bases, processes):
            wait_until_answering(base, process)
        question = {"question": "Mitkä ovat Laukaan suurimmat päästölähteet?"}
        statuses = [httpx.post(f"{bases[i % 2]}/api/ask", json=question, timeout=60).status_code
                    for i in range(LIMIT + 1)]
        assert statuses == [200] * LIMIT + [429]
        assert httpx.post(f"{bases[0]}/api/ask", json=question, timeout=60).status_code == 429
    finally:
        for process in processes:
            process.terminate()
            process.wait(20)
