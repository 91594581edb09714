"""The app over HTTP: the document route and the chat page's headers (the chat itself: test_chat.py, test_browser.py)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_documents_are_served_only_from_the_corpus(live_app):
    ok = httpx.get(f"{live_app}/files/tietopaketti/osa-1-paastot-ja-tavoitteet.pdf")
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF")
    for path in ("/files/../pyproject.toml", "/files/%2e%2e/pyproject.toml", "/files/data/kuntien-luvut.csv",
                 "/files/README.md", "/files/%2fetc%2fpasswd", "/files/kunnat/laukaa.md%00"):
        assert httpx.get(f"{live_app}{path}").status_code == 404, path


def test_chat_page_cannot_be_framed_by_other_sites(live_app):
    response = httpx.get(live_app)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
