"""Reviewed answers and superseded documents: the council's expert corrects the bot without touching code.

A reviewer writes a curated answer, with its own citations, for a question from the log. From then on the same
question, and any closely similar one (bot/questionmatch.py), gets that answer, marked "Tarkistettu vastaus"
with the review date, until the answer is withdrawn. Documents can also be marked superseded; the answer engine
reads ``superseded_doc_ids()`` so that it stops citing them as current.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.answer_types import Answer, AnswerEvent, Citation, Final, TextPiece
from bot.conversation import standalone_question
from bot.database import open_database, reviewed_answer_table, superseded_table
from bot.embeddings import base_embeddings
from bot.municipalities import normalize_municipality
from bot.privacy import mask_personal_data
from bot.questionlog import as_utc
from bot.questionmatch import QuestionMatcher, named_municipalities
from bot.settings import Settings

log = logging.getLogger(__name__)
NOTICE = "Tarkistettu vastaus ({date})"


def finnish_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


@dataclass(frozen=True)
class ReviewedCitation:
    doc_id: str
    title: str
    quote: str
    page: int | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class ReviewedAnswer:
    id: int
    question: str
    municipality: str | None  # the municipality the question is about, or None for the whole region
    answer: str
    citations: list[ReviewedCitation]
    reviewed_on: date
    withdrawn_at: datetime | None = None

    @property
    def scope(self) -> frozenset[str]:
        """The municipalities the reviewed question is about."""
        return named_municipalities(self.question) or frozenset(filter(None, [self.municipality]))

    def as_answer(self) -> Answer:
        """The curated answer in the shape of the answer engine's, with the reviewed-answer notice."""
        citations = [
            Citation(n=n, doc_id=c.doc_id, title=c.title, page=c.page, municipality=None, source_url=c.source_url,
                     quote=c.quote)
            for n, c in enumerate(self.citations, 1)
        ]
        return Answer(self.answer, refused=False, citations=citations,
                      notices=[NOTICE.format(date=finnish_date(self.reviewed_on))])

    def as_json(self) -> dict:
        return {**asdict(self), "reviewed_on": self.reviewed_on.isoformat(),
                "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None}


class ReviewedAnswers:
    """The reviewed answers of one database, and the route that gives them to matching questions."""

    def __init__(self, settings: Settings, matcher: QuestionMatcher | None = None):
        self.settings = settings
        self.engine = open_database(settings.feedback_url)
        self._matcher = matcher

    @property
    def matcher(self) -> QuestionMatcher:
        """Loaded on first use, so that a bot without reviewed answers never embeds a question for them."""
        if self._matcher is None:
            self._matcher = QuestionMatcher(base_embeddings(self.settings))
        return self._matcher

    def add(self, question: str, answer: str, citations: list[ReviewedCitation], municipality: str | None = None,
            reviewed_on: date | None = None) -> int:
        """Store a curated answer; ValueError (in Finnish, for the reviewer) when it is not usable."""
        question, answer = " ".join(question.split()), answer.strip()
        if not question or not answer:
            raise ValueError("Kysymys ja vastaus tarvitaan.")
        if not citations or any(not (c.doc_id.strip() and c.title.strip() and c.quote.strip()) for c in citations):
            raise ValueError("Vastaus tarvitsee vähintään yhden lähteen, ja jokaisella lähteellä asiakirja, otsikko ja lainaus.")
        if any(c.source_url and not c.source_url.startswith(("https://", "http://")) for c in citations):
            raise ValueError("Lähteen verkko-osoitteen pitää alkaa https:// tai http://.")
        row = {
            "question": mask_personal_data(question), "answer": answer,
            "municipality": normalize_municipality(municipality),
            "citations": json.dumps([asdict(c) for c in citations], ensure_ascii=False),
            "reviewed_on": reviewed_on or date.today(), "created_at": datetime.now(timezone.utc),
        }
        with self.engine.begin() as conn:
            return int(conn.execute(insert(reviewed_answer_table).values(**row)).inserted_primary_key[0])

    def withdraw(self, reviewed_id: int) -> bool:
        """Stop giving an answer (it stays listed as withdrawn); False when there was no such active answer."""
        table = reviewed_answer_table
        with self.engine.begin() as conn:
            result = conn.execute(update(table).where(table.c.id == reviewed_id, table.c.withdrawn_at.is_(None))
                                  .values(withdrawn_at=datetime.now(timezone.utc)))
        return result.rowcount == 1

    def all(self, include_withdrawn: bool = True) -> list[ReviewedAnswer]:
        """Newest first."""
        table = reviewed_answer_table
        query = select(table).order_by(table.c.id.desc())
        if not include_withdrawn:
            query = query.where(table.c.withdrawn_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            ReviewedAnswer(id=row["id"], question=row["question"], municipality=row["municipality"],
                           answer=row["answer"], reviewed_on=row["reviewed_on"],
                           citations=[ReviewedCitation(**c) for c in json.loads(row["citations"])],
                           withdrawn_at=as_utc(row["withdrawn_at"]) if row["withdrawn_at"] else None)
            for row in rows
        ]

    def match(self, question: str, municipality: str | None = None) -> ReviewedAnswer | None:
        """The closest active reviewed answer for a question about the same place, numbers and subject."""
        candidates = [r for r in self.all(include_withdrawn=False) if self._same_place(r, question, municipality)]
        close = [r for r in candidates if self.matcher.close(question, r.question)]
        return max(close, key=lambda r: self.matcher.similarity(question, r.question), default=None)

    @staticmethod
    def _same_place(reviewed: ReviewedAnswer, question: str, municipality: str | None) -> bool:
        """A question naming municipalities must name those of the reviewed one; otherwise a region-wide
        reviewed answer fits anywhere and a municipality's one only where that municipality was chosen."""
        named = named_municipalities(question)
        if named:
            return named == reviewed.scope
        return not reviewed.scope or reviewed.scope == {normalize_municipality(municipality)}

    def stream(self, question: str, municipality: str | None = None,
               history: list[tuple[str, str]] | None = None) -> Iterator[AnswerEvent] | None:
        """The reviewed answer's events when one matches the (standalone) question, else None."""
        started = time.perf_counter()
        asked = standalone_question(" ".join((question or "").split()), history)
        try:
            reviewed = self.match(asked, municipality) if asked else None
        except SQLAlchemyError:  # the answer engine still answers
            log.exception("could not read the reviewed answers")
            return None
        if reviewed is None:
            return None
        answer = reviewed.as_answer()
        answer.standalone, answer.seconds = asked, time.perf_counter() - started
        return iter([*(TextPiece(line) for line in answer.answer.splitlines(keepends=True)), Final(answer)])


class SupersededDocuments:
    """Documents the reviewer has marked out of date: still in the store, no longer cited as current."""

    def __init__(self, settings: Settings):
        self.engine = open_database(settings.feedback_url)

    def mark(self, doc_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(superseded_table).where(superseded_table.c.doc_id == doc_id))
            conn.execute(insert(superseded_table).values(doc_id=doc_id, marked_at=datetime.now(timezone.utc)))

    def unmark(self, doc_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(superseded_table).where(superseded_table.c.doc_id == doc_id))

    def superseded_doc_ids(self) -> frozenset[str]:
        with self.engine.connect() as conn:
            return frozenset(conn.execute(select(superseded_table.c.doc_id)).scalars())
