"""Thumbs up/down with an optional comment, stored with the question, answer and citations.

SQLite under the data directory by default; ILMASTO_DATABASE_URL selects another database that SQLAlchemy
supports (e.g. postgresql+psycopg://user:pass@host/db with the ``postgres`` extra).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, insert, select

metadata = MetaData()
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rating", String(8), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),
)
RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 2000


class FeedbackStore:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, future=True)
        metadata.create_all(self.engine)

    def add(self, rating: str, question: str, answer: str, citations: list[dict], comment: str = "") -> int:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}")
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(feedback_table).values(
                    created_at=datetime.now(timezone.utc), rating=rating, comment=(comment or "")[:MAX_COMMENT_CHARS],
                    question=question, answer=answer, citations=json.dumps(citations, ensure_ascii=False),
                )
            )
            return int(result.inserted_primary_key[0])

    def all(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback_table).order_by(feedback_table.c.id)).mappings().all()
        return [{**row, "citations": json.loads(row["citations"])} for row in rows]
