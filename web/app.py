"""The web application: FastAPI serving the API, the widget and the cited source documents, with the Gradio
chat mounted at / after them (so it shadows none of their paths)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from bot import __version__
from bot.service import BotService


def resolve_document(service: BotService, doc_id: str) -> Path:
    """The file of an ingested document inside the corpus folder; anything else is 404."""
    if not service.status.lexical_ready:  # never hold a request while the store opens
        raise HTTPException(status_code=503, detail="Aineistoa ladataan vielä.", headers={"Retry-After": "5"})
    known = {r.doc_id for r in service.answerer.retriever.records}
    corpus = service.settings.corpus_dir.resolve()
    path = (corpus / doc_id).resolve()
    if doc_id not in known or corpus not in path.parents or not path.is_file():
        raise HTTPException(status_code=404, detail="Asiakirjaa ei löydy.")
    return path


def create_app(service: BotService) -> FastAPI:
    from ui import build_ui
    from web.admin import admin_router
    from web.api import add_api_middleware, api_router
    from web.render import CSS, MARKER_JS
    from web.widget import widget_router

    app = FastAPI(title="Keski-Suomen kuntien ilmastobotti", version=__version__)

    @app.get("/files/{doc_id:path}", include_in_schema=False)
    def source_file(doc_id: str) -> FileResponse:
        path = resolve_document(service, doc_id)
        media = "text/plain; charset=utf-8" if path.suffix.lower() in (".md", ".txt") else mimetypes.guess_type(path.name)[0]
        return FileResponse(path, media_type=media or "application/octet-stream", content_disposition_type="inline")

    @app.middleware("http")
    async def no_framing_elsewhere(request, call_next):
        """Only /widget may be framed by other sites (its own policy says which); nothing else may."""
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
        return response

    app.include_router(api_router(service))
    app.include_router(widget_router(service.settings))
    app.include_router(admin_router(service))
    add_api_middleware(app, service.settings)

    return gr.mount_gradio_app(app, build_ui(service), path="/", css=CSS, js=MARKER_JS, footer_links=[])
