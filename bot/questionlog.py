"""The question log: what was asked, where, how it went and what was cited, for the council's expert.

One row per final answer, written by an observer of BotService. It keeps no client address and no user
identifier, and every question and answer is masked for personal data (bot/privacy.py) before it is written.
Rows older than ``ILMASTO_LOG_RETENTION_DAYS`` are deleted when the log is opened and again once a day, and so
is the feedback given on answers (bot/feedback.py: it holds the question too);
``ILMASTO_QUESTION_LOG=false`` stops writing altogether (what was logged earlier can still be read and purged).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from bot.database import citation_review_table, feedback_table, open_database, question_log_table
from bot.municipalities import find_municipality, normalize_municipality
from bot.privacy import mask_personal_data
from bot.answer_types import Answer
from bot.settings import Settings


log = logging.getLogger(__name__)
PURGE_INTERVAL_S = 24 * 3600
MAX_LOGGED_CHARS = 4000
OUTCOMES = ("answered", "partial", "refused")


@dataclass(frozen=True)
class LoggedQuestion:
    id: int
    created_at: datetime
    question: str
    municipality: str | None
    outcome: str
    best_score: float | None
    answer: str
    citations: list[dict]
    doc_ids: list[str]
    reviews: dict[int, bool] = field(default_factory=dict)  # citation number -> marked right (True) or wrong

    def as_json(self) -> dict:
        return {**asdict(self), "created_at": self.created_at.isoformat(),
                "reviews": {str(n): correct for n, correct in self.reviews.items()}}


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every stored moment is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class QuestionLog:
    """Writes and reads the question log of one database; safe to share between threads."""

    def __init__(self, settings: Settings):
        self.engine = open_database(settings.feedback_url)
        self.enabled = settings.question_log
        self.retention = timedelta(days=settings.log_retention_days)
        self._purged_at = 0.0
        self._purge_lock = threading.Lock()
        self._purge_if_due()

    # ------------------------------------------------------------ writing

    def record(self, question: str, municipality: str | None, answer: Answer) -> int | None:
        """Log one answered question (a BotService observer); a database failure never costs the user the answer."""
        if not self.enabled:
            return None
        citations = [{k: c.as_json()[k] for k in ("n", "doc_id", "title", "page", "quote")} for c in answer.citations]
        row = {
            "created_at": datetime.now(timezone.utc),
            "question": mask_personal_data(question[:MAX_LOGGED_CHARS]),
            "municipality": normalize_municipality(municipality) or find_municipality(question),
            "outcome": answer.outcome,
            "best_score": None if answer.best_score is None else float(answer.best_score),  # numpy floats too
            "answer": mask_personal_data(answer.answer[:MAX_LOGGED_CHARS]),
            "citations": json.dumps(citations, ensure_ascii=False),
            "doc_ids": json.dumps(list(dict.fromkeys(c["doc_id"] for c in citations)), ensure_ascii=False),
        }
        try:
            self._purge_if_due()
            with self.engine.begin() as conn:
                return int(conn.execute(insert(question_log_table).values(**row)).inserted_primary_key[0])
        except SQLAlchemyError:
            log.exception("could not write the question log")
            return None

    def mark_citation(self, log_id: int, n: int, correct: bool) -> None:
        """A reviewer's verdict on citation ``n`` of a logged answer; a later verdict replaces an earlier one."""
        entry = self.get(log_id)
        if entry is None or n not in {c["n"] for c in entry.citations}:
            raise KeyError(f"no citation {n} in logged question {log_id}")
        table = citation_review_table
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.log_id == log_id, table.c.n == n))
            conn.execute(insert(table).values(log_id=log_id, n=n, correct=correct, reviewed_at=datetime.now(timezone.utc)))

    # ------------------------------------------------------------ reading

    def rows(self, outcome: str | None = None, municipality: str | None = None, days: int | None = None,
             contains: str | None = None, limit: int | None = 200) -> list[LoggedQuestion]:
        """Logged questions, newest first, filtered by outcome, municipality, age in days and a piece of text."""
        self._purge_if_due()
        table = question_log_table
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if outcome:
            query = query.where(table.c.outcome == outcome)
        if municipality:
            query = query.where(table.c.municipality == normalize_municipality(municipality))
        if days is not None:
            query = query.where(table.c.created_at >= datetime.now(timezone.utc) - timedelta(days=days))
        if contains:
            query = query.where(func.lower(table.c.question).contains(contains.lower(), autoescape=True))
        return self._with_reviews(query)

    def get(self, log_id: int) -> LoggedQuestion | None:
        found = self._with_reviews(select(question_log_table).where(question_log_table.c.id == log_id))
        return found[0] if found else None

    def _with_reviews(self, query) -> list[LoggedQuestion]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [row["id"] for row in rows]
            reviews: dict[int, dict[int, bool]] = {}
            review_query = select(citation_review_table).where(citation_review_table.c.log_id.in_(ids))
            for review in conn.execute(review_query).mappings():
                reviews.setdefault(review["log_id"], {})[review["n"]] = bool(review["correct"])
        return [
            LoggedQuestion(
                id=row["id"], created_at=as_utc(row["created_at"]), question=row["question"],
                municipality=row["municipality"], outcome=row["outcome"], best_score=row["best_score"],
                answer=row["answer"], citations=json.loads(row["citations"]), doc_ids=json.loads(row["doc_ids"]),
                reviews=reviews.get(row["id"], {}),
            )
            for row in rows
        ]

    # ------------------------------------------------------------ retention

    def purge(self) -> int:
        """Delete the rows (with their citation reviews) and the feedback older than the retention period;
        returns how many rows and feedback rows."""
        cutoff = datetime.now(timezone.utc) - self.retention
        old = select(question_log_table.c.id).where(question_log_table.c.created_at < cutoff)
        with self.engine.begin() as conn:
            conn.execute(delete(citation_review_table).where(citation_review_table.c.log_id.in_(old)))
            removed = conn.execute(delete(question_log_table).where(question_log_table.c.created_at < cutoff)).rowcount
            return removed + conn.execute(delete(feedback_table).where(feedback_table.c.created_at < cutoff)).rowcount

    def _purge_if_due(self) -> None:
        with self._purge_lock:
            if self._purged_at and time.monotonic() - self._purged_at < PURGE_INTERVAL_S:
                return
            self._purged_at = time.monotonic()
        removed = self.purge()
        if removed:
            log.info("question log: %d rows older than %s deleted", removed, self.retention)
