"""The chat app over HTTP, through gradio_client, and the document route."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client

pytestmark = pytest.mark.slow


def test_chat_answers_with_markers_and_sources_panel(live_app):
    client = Client(live_app, verbose=False)
    question, messages, sources = client.predict("Mitä ilmastolaki vaatii kunnalta?", [], "Koko Keski-Suomi", api_name="/ask")[:3]
    assert question == ""
    answer = messages[-1]["content"]
    text = answer if isinstance(answer, str) else str(answer)
    assert "[\\[1\\]](#lahde-1)" in text or "#lahde-1" in text
    assert 'id="lahde-1"' in sources
    assert "/files/tietopaketti/" in sources


def test_html_in_a_question_is_escaped(live_app):
    client = Client(live_app, verbose=False)
    _, messages, _ = client.predict("<script>alert('x')</script> Mitä ilmastolaki vaatii?", [], "Koko Keski-Suomi", api_name="/ask")[:3]
    shown = str(messages[0]["content"])
    assert "<script>" not in shown and "&lt;script&gt;" in shown


def test_documents_are_served_only_from_the_corpus(live_app):
    ok = httpx.get(f"{live_app}/files/tietopaketti/osa-1-paastot-ja-tavoitteet.pdf")
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF")
    for path in ("/files/../pyproject.toml", "/files/%2e%2e/pyproject.toml", "/files/data/kuntien-luvut.csv",
                 "/files/README.md", "/files/%2fetc%2fpasswd"):
        assert httpx.get(f"{live_app}{path}").status_code == 404, path


def test_chat_page_cannot_be_framed_by_other_sites(live_app):
    response = httpx.get(live_app)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
