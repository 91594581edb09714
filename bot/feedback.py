"""Thumbs up/down with an optional comment, stored with the question, answer and citations.

Stored in the app's database (bot/database.py). The question and the comment are written with personal data
masked, like the question log.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from bot.database import feedback_table, open_database
from bot.privacy import mask_personal_data

RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 2000


class FeedbackStore:
    def __init__(self, url: str):
        self.engine = open_database(url)

    def add(self, rating: str, question: str, answer: str, citations: list[dict], comment: str = "") -> int:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}")
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(feedback_table).values(
                    created_at=datetime.now(timezone.utc), rating=rating,
                    comment=mask_personal_data((comment or "")[:MAX_COMMENT_CHARS]),
                    question=mask_personal_data(question), answer=answer,
                    citations=json.dumps(citations, ensure_ascii=False),
                )
            )
            return int(result.inserted_primary_key[0])

    def all(self, rating: str | None = None, days: int | None = None) -> list[dict]:
        """Every feedback row, oldest first; optionally only one rating or the last ``days`` days."""
        query = select(feedback_table).order_by(feedback_table.c.id)
        if rating is not None:
            query = query.where(feedback_table.c.rating == rating)
        if days is not None:
            query = query.where(feedback_table.c.created_at >= datetime.now(timezone.utc) - timedelta(days=days))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**row, "citations": json.loads(row["citations"])} for row in rows]
