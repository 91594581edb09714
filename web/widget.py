"""The embeddable widget: /widget.js (the one-tag loader for host pages) and /widget (the chat in its iframe).

Only the origins in ILMASTO_ALLOWED_ORIGINS may frame /widget (CSP frame-ancestors). The page itself runs
under a strict policy: its one inline script and stylesheet are allowed by hash, it may only talk to its own
origin, and it sets no cookies.
"""

import base64
import hashlib
import html
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from bot.settings import Settings
from web.api import allowed_origins
from web.render import privacy_notice

STATIC = Path(__file__).resolve().parent / "static"


def _hashes(page: str, tag: str) -> str:
    """CSP hash sources of the page's inline <script> or <style> blocks."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


def widget_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    page = ((STATIC / "widget.html").read_text(encoding="utf-8")
            .replace("{{max_chars}}", str(settings.max_question_chars))
            .replace("{{privacy}}", html.escape(privacy_notice(settings.log_retention_days))))
    loader = (STATIC / "widget.js").read_text(encoding="utf-8")
    ancestors = " ".join(["'self'", *allowed_origins(settings)])
    page_headers = {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {_hashes(page, 'script')}; style-src {_hashes(page, 'style')}; "
            f"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    loader_headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=600"}

    @router.get("/widget")
    def widget_page() -> HTMLResponse:
        return HTMLResponse(page, headers=page_headers)

    @router.get("/widget.js")
    def widget_loader() -> Response:
        return Response(loader, media_type="text/javascript; charset=utf-8", headers=loader_headers)

    return router
