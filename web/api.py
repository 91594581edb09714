"""The HTTP API beside the chat window: cited answers as JSON or server-sent events, and a health check.

Answering is CPU-bound and synchronous, so it runs in worker threads, at most ANSWER_SLOTS at once; further
requests queue for a while and then get 503, and each client address is limited to
``rate_limit_per_minute`` questions (429, the limit shared with the chat window: web/ratelimit.py). Request
bodies over ``max_body_bytes`` are refused (413) before anything parses them, bodies that are no JSON get 400 and
invalid fields 422, in Finnish and without echoing what was sent, and only browsers on ``allowed_origins`` may
call the app across origins (CORS, no cookies).
"""

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import __version__
from bot.answer_types import AnswerEvent, Final
from bot.conversation import question_answer_pairs
from bot.service import BotService, IndexStatus
from bot.settings import Settings
from web.inputs import MAX_HISTORY, capped_history, finnish_errors, readable_text
from web.ratelimit import RATE_LIMITED, QuestionLimit

API_PREFIX = "/api/"
# The paths by which the chat page sends events (the queue, and /run for the few unqueued ones such as the
# example questions): the body limit covers them as well. The question limit itself is in the chat's handler.
GRADIO_EVENTS = ("/gradio_api/queue/join", "/gradio_api/run/")
# Answers run in worker threads (the embedding engine releases the GIL); four at a time keep two cores busy
# (scripts/load_test.py) while the rest wait in line, up to QUEUE_WAIT_S.
ANSWER_SLOTS = 4
QUEUE_WAIT_S = 30.0
BUSY = "Palvelussa on juuri nyt ruuhkaa. Yritä hetken kuluttua uudelleen."
NOT_READY = "Aineistoa ladataan vielä. Yritä hetken kuluttua uudelleen."
TOO_LARGE = "Pyyntö on liian suuri (enintään {n} tavua)."
NOT_JSON = "Pyynnön runko ei ole kelvollista JSONia (UTF-8-koodattu, enintään kohtuullisen syvä)."
# Why questions cannot be answered, for /api/health (Finnish / English, for the operator and monitoring).
STORE_FAILED = "Aineiston avaaminen epäonnistui / The store could not be prepared: {error}"
STORE_OPENING = "Aineistoa ladataan vielä / The store is still being opened"
STORE_EMPTY = "Aineisto on tyhjä: aja python -m ingest / The store is empty: run python -m ingest"
_ORIGIN = re.compile(r"^(\*|https?://[^\s/;,'\"]+)$")


# ---------------------------------------------------------------- request and response shapes


Text = Annotated[str, AfterValidator(readable_text)]


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: Text


class CitationJson(BaseModel):
    n: int
    doc_id: str
    title: str
    page: int | None
    municipality: str | None
    source_url: str | None
    quote: str = Field(description="The sentence used in the answer, verbatim from the cited passage.")
    checked: str | None = Field(description="When the document's facts were last checked (YYYY-MM-DD).")


class AnswerJson(BaseModel):
    """Documents the answer (the object of `python -m bot ask --json`); the payload is Answer.as_json()."""

    answer: str = Field(description="Finnish answer text with citation markers [n].")
    refused: bool = Field(description="True when the material does not cover the question.")
    outcome: Literal["answered", "partial", "refused"] = Field(
        description="partial: answered in part, the answer says which part the material does not cover.")
    citations: list[CitationJson]
    seconds: float
    suggestions: list[str] = Field(description="Questions the material does answer (after a refusal).")
    notices: list[str]


class ErrorJson(BaseModel):
    detail: str


class HealthJson(BaseModel):
    status: Literal["ok", "unavailable"]
    reason: str | None = Field(None, description="Why questions cannot be answered now (Finnish / English).")
    store: bool
    chunks: int
    dense_ready: bool
    version: str


def ask_request_model(max_chars: int) -> type[BaseModel]:
    """The request body, with the question length limit of these settings (422 with a Finnish message)."""

    class AskRequest(BaseModel):
        """A question, optionally with the conversation so far and the municipality to prefer."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={
            "examples": [{"question": "Mitä ilmastolaki vaatii kunnalta?", "municipality": "Laukaa"}]})

        question: Text = Field(description="The question in Finnish.", json_schema_extra={"maxLength": max_chars})
        history: list[tuple[Text, Text]] | list[Turn] = Field(
            default_factory=list, max_length=MAX_HISTORY,
            description='Earlier turns as [question, answer] pairs or {"role", "content"} messages; each question is '
                        f'cut at {max_chars} characters.')
        municipality: Text | None = Field(None, max_length=60, description="Prefer this municipality's material.")

        @field_validator("question")
        @classmethod
        def short_enough(cls, value: str) -> str:
            if len(value) > max_chars:
                raise ValueError(f"Kysymys on liian pitkä: enintään {max_chars} merkkiä "
                                 f"(question longer than {max_chars} characters)")
            return value

        def pairs(self) -> list[tuple[str, str]]:
            """History as the Answerer takes it: (question, answer) pairs, each cut to size."""
            if not self.history or isinstance(self.history[0], tuple):
                return capped_history(self.history, max_chars)
            return capped_history(question_answer_pairs((turn.role, turn.content) for turn in self.history), max_chars)

    return AskRequest


# ---------------------------------------------------------------- limits


class AnswerSlots:
    """At most `size` answers computed at once; a request waiting longer than `wait_s` gets 503."""

    def __init__(self, size: int = ANSWER_SLOTS, wait_s: float = QUEUE_WAIT_S):
        self._semaphore = anyio.Semaphore(size)
        self.wait_s = wait_s

    async def acquire(self) -> None:
        with anyio.move_on_after(self.wait_s):
            await self._semaphore.acquire()
            return
        raise HTTPException(503, BUSY, headers={"Retry-After": "10"})

    def release(self) -> None:
        self._semaphore.release()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class _SlotStream(StreamingResponse):
    """Streams an answer and gives its slot back however the response ends (done, failed, client gone)."""

    def __init__(self, content: Iterator[str], release: Callable[[], None]):
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def sse_events(events: Iterator[AnswerEvent]) -> Iterator[str]:
    """An answer stream as server-sent events: `token` (a JSON string) per piece, then `answer` (the JSON)."""
    for event in events:
        if isinstance(event, Final):
            yield f"event: answer\ndata: {json.dumps(event.answer.as_json(), ensure_ascii=False)}\n\n"
        else:
            yield f"event: token\ndata: {json.dumps(event.text, ensure_ascii=False)}\n\n"


# ---------------------------------------------------------------- routes


ERRORS = {
    413: {"model": ErrorJson, "description": "Request body over max_body_bytes."},
    429: {"model": ErrorJson, "description": "Over rate_limit_per_minute for this address; see Retry-After."},
    503: {"model": ErrorJson, "description": "The store is still being opened, or every answer slot stayed busy; "
                                              "see Retry-After."},
}


def unavailable_reason(status: IndexStatus) -> str | None:
    """Why questions cannot be answered now, or None when they can."""
    if not status.lexical_ready:
        return STORE_FAILED.format(error=status.error) if status.error else STORE_OPENING
    if status.chunks == 0:
        return STORE_EMPTY
    return None


async def check_limit(limit: QuestionLimit, request: Request) -> None:
    """429 with Retry-After once this address has asked its share (in a thread: the count may live in Redis)."""
    wait = await run_in_threadpool(limit.retry_after, request.client.host if request.client else None)
    if wait:
        raise HTTPException(429, RATE_LIMITED, headers={"Retry-After": str(wait)})


def api_router(service: BotService, limit: QuestionLimit) -> APIRouter:
    """POST /api/ask, POST /api/ask/stream and GET /api/health for the service, under the shared question limit."""
    router = APIRouter(prefix="/api", tags=["api"])
    AskRequest = ask_request_model(service.settings.max_question_chars)
    slots = AnswerSlots()

    def ensure_ready() -> None:
        """503 while the store is still being opened (rather than holding the request)."""
        if not service.status.lexical_ready:
            raise HTTPException(503, NOT_READY, headers={"Retry-After": "5"})

    @router.post("/ask", responses={200: {"model": AnswerJson}, **ERRORS})
    async def ask(body: AskRequest, request: Request) -> dict:  # type: ignore[valid-type]
        """A cited Finnish answer, the same object as `python -m bot ask --json`."""
        ensure_ready()  # before counting: a 503 costs nothing and the caller will ask again
        await check_limit(limit, request)
        async with slots.held():
            answer = await run_in_threadpool(service.answer, body.question, body.municipality, body.pairs())
        return answer.as_json()

    @router.post("/ask/stream", response_class=StreamingResponse, responses={
        200: {"content": {"text/event-stream": {}},
              "description": "`event: token` with a JSON string per piece of text, then `event: answer` with the answer JSON."},
        **ERRORS})
    async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:  # type: ignore[valid-type]
        """The answer as server-sent events, for showing it while it is written."""
        ensure_ready()  # before counting: a 503 costs nothing and the caller will ask again
        await check_limit(limit, request)
        await slots.acquire()
        return _SlotStream(sse_events(service.stream(body.question, body.municipality, body.pairs())), slots.release)

    @router.get("/health", response_model=HealthJson, responses={
        503: {"model": HealthJson, "description": "Questions cannot be answered now; `reason` says why."}})
    async def health() -> JSONResponse:
        """200 when questions can be answered (dense_ready: with the embedding index too), else 503 with the
        reason; never waits for the store."""
        status = service.status
        reason = unavailable_reason(status)
        body = HealthJson(status="unavailable" if reason else "ok", reason=reason,
                          store=status.lexical_ready and status.chunks > 0, chunks=status.chunks,
                          dense_ready=status.dense_ready, version=__version__)
        return JSONResponse(body.model_dump(), status_code=503 if reason else 200)

    return router


# ---------------------------------------------------------------- middleware


def allowed_origins(settings: Settings) -> list[str]:
    """ILMASTO_ALLOWED_ORIGINS as origins ("https://kunta.fi"); a value that is no origin is an error."""
    origins = [o.rstrip("/") for o in settings.allowed_origins]
    bad = [o for o in origins if not _ORIGIN.match(o)]
    if bad:
        raise ValueError(f"ILMASTO_ALLOWED_ORIGINS: not an origin (scheme://host[:port]): {', '.join(bad)}")
    return origins


class BodyLimit:
    """Refuses question bodies (/api/*, the Gradio queue) over max_bytes with 413, counting what arrives (a
    Content-Length can lie)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith((API_PREFIX, *GRADIO_EVENTS)):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
            if size > self.max_bytes:
                response = JSONResponse({"detail": TOO_LARGE.format(n=self.max_bytes)}, status_code=413)
                await response(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and rule in Finnish, without the values sent (they may not even be encodable);
    400 when the body is no JSON at all."""
    errors = finnish_errors(exc.errors())
    if any(e["type"] == "json_invalid" for e in errors):
        return JSONResponse({"detail": NOT_JSON}, status_code=400)
    return JSONResponse({"detail": errors}, status_code=422)


async def unparsable_body(request: Request, exc: HTTPException) -> JSONResponse:
    """FastAPI's English 400 for bodies it cannot decode (not UTF-8, nested too deep), in Finnish."""
    detail = NOT_JSON if exc.status_code == 400 else exc.detail
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


def add_api_middleware(app: FastAPI, settings: Settings) -> None:
    """The body limit, inside CORS so that a 413 still carries the headers a cross-origin caller needs.

    CORS covers the whole app on purpose: Gradio steps back when the parent app has a CORSMiddleware, and its
    own default would answer any origin, with credentials, once the app runs on a public host name.
    """
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CORSMiddleware, allow_origins=allowed_origins(settings), allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"], expose_headers=["Retry-After"], allow_credentials=False,
                       max_age=600)
