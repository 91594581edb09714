"""The admin page at /admin: corpus status, uploads, ingest with progress, removals, and the feedback list.

Closed (404) unless ILMASTO_ADMIN_TOKEN is set; then open only to its holder (web/admin_auth.py). The pages
are rendered by Jinja2 with autoescaping, so nothing from files or users is ever taken as HTML, and they run
under a Content Security Policy that allows only the admin's own script and stylesheet. Nothing in the public
chat or widget links here.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from bot.feedback import RATINGS, FeedbackStore
from bot.municipalities import MUNICIPALITIES
from bot.service import BotService
from ingest.loaders import DOC_TYPES
from web.admin_review import review_router
from web.admin_auth import WRONG_TOKEN, AdminAuth, AdminSession, check_body_size, check_origin
from web.admin_corpus import (DocumentMeta, IngestJob, UploadError, corpus_documents, corpus_folders,
                              remove_document, save_upload)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                                "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
FORM_OVERHEAD_BYTES = 1_000_000  # the metadata fields and multipart framing around the file
MAX_FEEDBACK_ROWS = 500  # shown on the page; the CSV has them all
# Fixed messages shown after a redirect (?viesti=...), so that nothing from the query string reaches the page.
MESSAGES = {
    "tallennettu": "Asiakirja tallennettiin. Päivitä aineisto, jotta se tulee hakuun.",
    "paivitys": "Aineiston päivitys käynnistyi.",
    "poistettu": "Asiakirja poistettiin, ja aineiston päivitys käynnistyi.",
    "kaynnissa": "Päivitys on jo käynnissä. Odota, että se valmistuu.",
    "ulos": "Kirjauduit ulos.",
}
CSV_COLUMNS = ("id", "aika", "arvio", "kysymys", "vastaus", "kommentti", "lähteet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def admin_router(service: BotService) -> APIRouter:
    """The /admin routes for this service: open with ILMASTO_ADMIN_TOKEN, a plain 404 without it."""
    router = APIRouter(prefix="/admin", include_in_schema=False)
    settings = service.settings
    if not settings.admin_token:
        @router.api_route("", methods=["GET", "POST"])
        @router.api_route("/{rest:path}", methods=["GET", "POST"])
        def closed() -> Response:
            raise HTTPException(404, "Not Found")

        return router

    max_upload = int(settings.max_file_mb * 1_000_000)
    auth = AdminAuth(settings.admin_token, max_body_bytes=max_upload + FORM_OVERHEAD_BYTES)
    job = IngestJob(service)
    feedback = cache(lambda: FeedbackStore(settings.feedback_url))

    def page(request: Request, name: str, status: int = 200, **context) -> Response:
        return templates.TemplateResponse(request, f"admin/{name}", context, status_code=status, headers=PAGE_HEADERS)

    def login_page(request: Request, status: int = 401, error: str = "", message: str = "") -> Response:
        return page(request, "login.html", status, error=error, message=message)

    def overview(request: Request, csrf: str, status: int = 200, error: str = "") -> Response:
        state = job.state()
        documents = corpus_documents(settings, state.report)
        return page(request, "index.html", status, csrf=csrf, state=state, documents=documents, error=error,
                    message=MESSAGES.get(request.query_params.get("viesti", ""), ""),
                    chunks=sum(d.chunks for d in documents), folders=corpus_folders(settings),
                    municipalities=MUNICIPALITIES, doc_types=DOC_TYPES, max_mb=settings.max_file_mb,
                    dense_ready=service.status.dense_ready)

    def done(message: str) -> Response:
        return RedirectResponse(f"/admin?viesti={message}", status_code=303, headers=PAGE_HEADERS)

    @router.get("")
    def index(request: Request) -> Response:
        session = auth.session(request)
        if session is None:
            return login_page(request, 401, message=MESSAGES.get(request.query_params.get("viesti", ""), ""))
        return overview(request, session.csrf)

    @router.post("/login")
    async def login(request: Request) -> Response:
        check_origin(request)
        check_body_size(request, FORM_OVERHEAD_BYTES)
        try:
            ok = auth.token_matches(request, str((await request.form()).get("token", "")))
        except HTTPException as exc:  # too many attempts: say so on the form
            return login_page(request, exc.status_code, error=str(exc.detail))
        if not ok:
            return login_page(request, 401, error=WRONG_TOKEN)
        response = RedirectResponse("/admin", status_code=303, headers=PAGE_HEADERS)
        auth.start_session(request, response)
        return response

    @router.post("/logout")
    def logout(csrf: str = Depends(auth.csrf)) -> Response:
        response = done("ulos")
        auth.end_session(response)
        return response

    @router.post("/upload")
    async def upload(request: Request, csrf: str = Depends(auth.csrf)) -> Response:
        check_body_size(request, auth.max_body_bytes)
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return overview(request, csrf, 400, error="Valitse lähetettävä tiedosto.")
        data = await file.read(max_upload + 1)
        meta = DocumentMeta(**{name: str(form.get(name, "")) for name in DocumentMeta.__dataclass_fields__})
        try:
            save_upload(settings, str(form.get("folder", "")), file.filename, data, meta,
                        replace=form.get("replace") == "1")
        except UploadError as exc:
            return overview(request, csrf, exc.status, error=str(exc))
        return done("tallennettu")

    @router.post("/ingest")
    def start_ingest(csrf: str = Depends(auth.csrf)) -> Response:
        return done("paivitys" if job.start() else "kaynnissa")

    @router.get("/ingest/status")
    def ingest_status(session: AdminSession = Depends(auth.require_admin)) -> JSONResponse:
        return JSONResponse(job.state().__dict__, headers={"Cache-Control": "no-store"})

    @router.post("/remove")
    async def remove(request: Request, csrf: str = Depends(auth.csrf)) -> Response:
        doc_id = str((await request.form()).get("doc_id", ""))
        try:
            remove_document(settings, doc_id)
        except UploadError as exc:
            return overview(request, csrf, exc.status, error=str(exc))
        return done("poistettu" if job.start() else "kaynnissa")

    @router.get("/feedback")
    def feedback_page(request: Request) -> Response:
        session = auth.session(request)
        if session is None:
            return login_page(request)
        filters = FeedbackFilter.from_query(request)
        rows = filters.apply(feedback().all())
        return page(request, "feedback.html", csrf=session.csrf, rows=rows[:MAX_FEEDBACK_ROWS], total=len(rows),
                    filters=filters, query=request.url.query, limit=MAX_FEEDBACK_ROWS)

    @router.get("/feedback.csv")
    def feedback_csv(request: Request, session: AdminSession = Depends(auth.require_admin)) -> Response:
        rows = FeedbackFilter.from_query(request).apply(feedback().all())
        return Response(feedback_as_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="palaute.csv"', "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})

    @router.get("/static/{name}")
    def static(name: str) -> FileResponse:
        if name not in ("admin.css", "admin.js"):
            raise HTTPException(404, "Not Found")
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    review = review_router(service, auth.require_admin, auth.csrf)
    for route in review.routes:  # the review pages carry their own /admin prefix
        router.routes.append(route)
    return router


# ---------------------------------------------------------------- feedback


class FeedbackFilter:
    """The feedback list's filters from the query string: rating, date range (inclusive) and free text."""

    def __init__(self, rating: str = "", start: date | None = None, end: date | None = None, text: str = ""):
        self.rating = rating if rating in RATINGS else ""
        self.start, self.end, self.text = start, end, text.strip()

    @classmethod
    def from_query(cls, request: Request) -> "FeedbackFilter":
        query = request.query_params
        return cls(query.get("arvio", ""), _date(query.get("alkaen", "")), _date(query.get("asti", "")),
                   query.get("teksti", "")[:200])

    def apply(self, rows: list[dict]) -> list[dict]:
        """Matching rows, newest first."""
        needle = self.text.casefold()
        return [row for row in reversed(rows)
                if (not self.rating or row["rating"] == self.rating)
                and (self.start is None or row["created_at"].date() >= self.start)
                and (self.end is None or row["created_at"].date() <= self.end)
                and (not needle or needle in f"{row['question']}\n{row['answer']}\n{row['comment']}".casefold())]


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def feedback_as_csv(rows: list[dict]) -> bytes:
    """Feedback as CSV for spreadsheets (UTF-8 with a BOM so that Excel reads ä and ö)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        sources = "; ".join(str(c.get("doc_id", "")) for c in row["citations"] if isinstance(c, dict))
        writer.writerow(csv_cell(v) for v in (row["id"], row["created_at"], row["rating"], row["question"],
                                               row["answer"], row["comment"], sources))
    return out.getvalue().encode("utf-8-sig")
