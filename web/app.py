"""The web application: FastAPI serving the API, the widget and the cited source documents, with the Gradio
chat mounted at / after them (so it shadows none of their paths).

Documents are served as inert files: a sandboxing CSP, no MIME sniffing, and HTML as an attachment, so that a
script in an ingested page can never run with the app's origin.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import __version__
from bot.service import BotService
from ui import build_ui
from web.admin import admin_router
from web.api import add_api_middleware, api_router, invalid_request, unparsable_body
from web.ratelimit import QuestionLimit
from web.render import CSS, MARKER_JS
from web.widget import widget_router

# Shown as text, never rendered; anything else the browser could render (HTML, SVG) is downloaded instead.
TEXT_SUFFIXES = (".md", ".txt", ".csv")
INLINE_TYPES = ("application/pdf", "text/plain")
# Gradio's client API: the chat page never uses it (it uses the queue), and the product documents /api/* instead.
UNPUBLISHED_GRADIO_ROUTE = "/gradio_api/call/{rest:path}"
NOT_FOUND = "Sivua ei löydy."
DOCUMENT_HEADERS = {"Content-Security-Policy": "sandbox; default-src 'none'; frame-ancestors 'self'",
                    "X-Content-Type-Options": "nosniff"}


def resolve_document(service: BotService, doc_id: str) -> Path:
    """The file of an ingested document inside the corpus folder; anything else is 404."""
    if not service.status.lexical_ready:  # never hold a request while the store opens
        raise HTTPException(status_code=503, detail="Aineistoa ladataan vielä.", headers={"Retry-After": "5"})
    known = {r.doc_id for r in service.answerer.retriever.records}
    if doc_id not in known:  # before touching the file system: no odd path (a NUL byte, "..") gets that far
        raise HTTPException(status_code=404, detail="Asiakirjaa ei löydy.")
    corpus = service.settings.corpus_dir.resolve()
    path = (corpus / doc_id).resolve()
    if corpus not in path.parents or not path.is_file():
        raise HTTPException(status_code=404, detail="Asiakirjaa ei löydy.")
    return path


def document_response(path: Path) -> FileResponse:
    """The file with headers that keep it inert: text and PDF inline, everything else as a download."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        media = "text/plain; charset=utf-8"
    else:
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    disposition = "inline" if media.split(";")[0] in INLINE_TYPES else "attachment"
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type=disposition,
                        headers=DOCUMENT_HEADERS)


def create_app(service: BotService) -> FastAPI:
    app = FastAPI(title="Keski-Suomen kuntien ilmastobotti", version=__version__)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, unparsable_body)
    limit = QuestionLimit.from_settings(service.settings)  # one count for the chat window and the API

    @app.get("/files/{doc_id:path}", include_in_schema=False)
    def source_file(doc_id: str) -> FileResponse:
        return document_response(resolve_document(service, doc_id))

    @app.api_route(UNPUBLISHED_GRADIO_ROUTE, methods=["GET", "POST"], include_in_schema=False)
    def unpublished(rest: str) -> None:
        raise HTTPException(status_code=404, detail=NOT_FOUND)

    @app.middleware("http")
    async def no_framing_elsewhere(request, call_next):
        """Only /widget may be framed by other sites (its own policy says which); nothing else may."""
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
        return response

    app.include_router(api_router(service, limit))
    app.include_router(widget_router(service.settings))
    app.include_router(admin_router(service))
    add_api_middleware(app, service.settings)

    # show_error=False: should a handler fail after all, the page says only that it failed, never the exception text.
    return gr.mount_gradio_app(app, build_ui(service, limit), path="/", css=CSS, js=MARKER_JS, footer_links=[],
                               show_error=False)
