"""What an answer is: its text, its citations (each quote verbatim from its passage) and the stream of events
that delivers it. Shared by the extractive engine, the optional LLM and everything that shows answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from bot.retrieval import Hit


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    page: int | None
    municipality: str | None
    source_url: str | None
    quote: str
    date: str | None = None
    checked: str | None = None  # when the document's facts were last checked (YYYY-MM-DD)
    chunk_id: str = ""
    chunk_text: str = ""
    highlights: list[str] = field(default_factory=list)
    relevance: float = 0.0

    def as_json(self) -> dict:
        return {"n": self.n, "doc_id": self.doc_id, "title": self.title, "page": self.page,
                "municipality": self.municipality, "source_url": self.source_url, "quote": self.quote,
                "checked": self.checked}


Outcome = Literal["answered", "partial", "refused"]


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    seconds: float = 0.0
    suggestions: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    standalone: str = ""
    partial: bool = False  # answered in part: the text names what the material does not cover
    best_score: float | None = None  # dense similarity of the best passage, for the question log

    @property
    def outcome(self) -> Outcome:
        return "refused" if self.refused else "partial" if self.partial else "answered"

    def as_json(self) -> dict:
        return {"answer": self.answer, "refused": self.refused, "outcome": self.outcome,
                "citations": [c.as_json() for c in self.citations], "seconds": round(self.seconds, 3),
                "suggestions": self.suggestions, "notices": self.notices}


@dataclass(frozen=True)
class TextPiece:
    """A piece of the answer text, streamed while the answer is written."""

    text: str


@dataclass(frozen=True)
class Final:
    """The finished answer; always the last event of a stream."""

    answer: Answer


AnswerEvent = TextPiece | Final


def final_answer(events: Iterator[AnswerEvent]) -> Answer:
    """The Answer of a stream, its text pieces dropped (for callers that want the whole answer at once)."""
    for event in events:
        if isinstance(event, Final):
            return event.answer
    raise RuntimeError("answer stream ended without a final answer")


def citation_for(n: int, hit: Hit, quote: str) -> Citation:
    r = hit.record
    return Citation(n=n, doc_id=r.doc_id, title=r.title, page=r.page, municipality=r.municipality,
                    source_url=r.source_url, quote=quote, date=r.date, checked=r.checked, chunk_id=r.id, chunk_text=r.text,
                    relevance=round(hit.score, 5))
