"""The HTTP API beside the chat window: cited answers as JSON or server-sent events, and a health check.

Answering is CPU-bound and synchronous, so it runs in worker threads, at most ANSWER_SLOTS at once; further
requests queue for a while and then get 503, and each client address is limited to
``rate_limit_per_minute`` questions (429). Request bodies over ``max_body_bytes`` are refused (413) before
anything parses them, and only browsers on ``allowed_origins`` may call the app across origins (CORS, no cookies).
"""

import json
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Literal

import anyio
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import __version__
from bot.answer import AnswerEvent, Final
from bot.conversation import question_answer_pairs
from bot.service import BotService
from bot.settings import Settings

API_PREFIX = "/api/"
# Answers run in worker threads (the embedding engine releases the GIL); four at a time keep two cores busy
# (scripts/load_test.py) while the rest wait in line, up to QUEUE_WAIT_S.
ANSWER_SLOTS = 4
QUEUE_WAIT_S = 30.0
MAX_HISTORY = 40
RATE_LIMITED = "Liian monta kysymystä lyhyessä ajassa. Odota hetki ja kysy sitten uudelleen."
BUSY = "Palvelussa on juuri nyt ruuhkaa. Yritä hetken kuluttua uudelleen."
NOT_READY = "Aineistoa ladataan vielä. Yritä hetken kuluttua uudelleen."
TOO_LARGE = "Pyyntö on liian suuri (enintään {n} tavua)."
_ORIGIN = re.compile(r"^(\*|https?://[^\s/;,'\"]+)$")


# ---------------------------------------------------------------- request and response shapes


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class CitationJson(BaseModel):
    n: int
    doc_id: str
    title: str
    page: int | None
    municipality: str | None
    source_url: str | None
    quote: str = Field(description="The sentence used in the answer, verbatim from the cited passage.")


class AnswerJson(BaseModel):
    """Documents the answer (the object of `python -m bot ask --json`); the payload is Answer.as_json()."""

    answer: str = Field(description="Finnish answer text with citation markers [n].")
    refused: bool = Field(description="True when the material does not cover the question.")
    citations: list[CitationJson]
    seconds: float
    suggestions: list[str] = Field(description="Questions the material does answer (after a refusal).")
    notices: list[str]


class ErrorJson(BaseModel):
    detail: str


def ask_request_model(max_chars: int) -> type[BaseModel]:
    """The request body, with the question length limit of these settings (422 with a Finnish message)."""

    class AskRequest(BaseModel):
        """A question, optionally with the conversation so far and the municipality to prefer."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={
            "examples": [{"question": "Mitä ilmastolaki vaatii kunnalta?", "municipality": "Laukaa"}]})

        question: str = Field(description="The question in Finnish.", json_schema_extra={"maxLength": max_chars})
        history: list[tuple[str, str]] | list[Turn] = Field(
            default_factory=list, max_length=MAX_HISTORY,
            description='Earlier turns as [question, answer] pairs or {"role", "content"} messages.')
        municipality: str | None = Field(None, max_length=60, description="Prefer this municipality's material.")

        @field_validator("question")
        @classmethod
        def short_enough(cls, value: str) -> str:
            if len(value) > max_chars:
                raise ValueError(f"Kysymys on liian pitkä: enintään {max_chars} merkkiä "
                                 f"(question longer than {max_chars} characters)")
            return value

        def pairs(self) -> list[tuple[str, str]]:
            """History as the Answerer takes it: (question, answer) pairs."""
            if not self.history or isinstance(self.history[0], tuple):
                return list(self.history)
            return question_answer_pairs((turn.role, turn.content) for turn in self.history)

    return AskRequest


# ---------------------------------------------------------------- limits


class RateLimiter:
    """A sliding one-minute window of accepted questions per client address, in memory (one process).

    Used from the event loop only, so it needs no lock.
    """

    WINDOW_S = 60.0
    FORGET_AFTER = 10_000  # addresses kept before idle ones are dropped

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int:
        """0 when the question may go ahead (it is then counted), else the seconds until it may."""
        if self.per_minute <= 0:
            return 0
        now = self.clock()
        if len(self._seen) > self.FORGET_AFTER:
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.WINDOW_S}
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self.WINDOW_S:
            times.popleft()
        if len(times) >= self.per_minute:
            return max(1, math.ceil(times[0] + self.WINDOW_S - now))
        times.append(now)
        return 0

    def check(self, request: Request) -> None:
        wait = self.retry_after(request.client.host if request.client else "unknown")
        if wait:
            raise HTTPException(429, RATE_LIMITED, headers={"Retry-After": str(wait)})


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


def api_router(service: BotService) -> APIRouter:
    """POST /api/ask, POST /api/ask/stream and GET /api/health for the service's Answerer."""
    router = APIRouter(prefix="/api", tags=["api"])
    AskRequest = ask_request_model(service.settings.max_question_chars)
    limiter = RateLimiter(service.settings.rate_limit_per_minute)
    slots = AnswerSlots()

    def ensure_ready() -> None:
        """503 while the store is still being opened (rather than holding the request)."""
        if not service.status.lexical_ready:
            raise HTTPException(503, NOT_READY, headers={"Retry-After": "5"})

    @router.post("/ask", responses={200: {"model": AnswerJson}, **ERRORS})
    async def ask(body: AskRequest, request: Request) -> dict:  # type: ignore[valid-type]
        """A cited Finnish answer, the same object as `python -m bot ask --json`."""
        limiter.check(request)
        ensure_ready()
        async with slots.held():
            answer = await run_in_threadpool(service.answer, body.question, body.municipality, body.pairs())
        return answer.as_json()

    @router.post("/ask/stream", response_class=StreamingResponse, responses={
        200: {"content": {"text/event-stream": {}},
              "description": "`event: token` with a JSON string per piece of text, then `event: answer` with the answer JSON."},
        **ERRORS})
    async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:  # type: ignore[valid-type]
        """The answer as server-sent events, for showing it while it is written."""
        limiter.check(request)
        ensure_ready()
        await slots.acquire()
        return _SlotStream(sse_events(service.stream(body.question, body.municipality, body.pairs())), slots.release)

    @router.get("/health")
    async def health() -> dict:
        """Whether the store is open and the dense (embedding) index complete; never waits for either."""
        status = service.status
        return {"status": "ok", "store": status.lexical_ready and status.chunks > 0, "chunks": status.chunks,
                "dense_ready": status.dense_ready, "version": __version__}

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
    """Refuses /api/* bodies over max_bytes with 413, counting what arrives (a Content-Length can lie)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
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


def add_api_middleware(app: FastAPI, settings: Settings) -> None:
    """The body limit, inside CORS so that a 413 still carries the headers a cross-origin caller needs.

    CORS covers the whole app on purpose: Gradio steps back when the parent app has a CORSMiddleware, and its
    own default would answer any origin, with credentials, once the app runs on a public host name.
    """
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CORSMiddleware, allow_origins=allowed_origins(settings), allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"], expose_headers=["Retry-After"], allow_credentials=False,
                       max_age=600)
