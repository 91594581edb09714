"""The app's own database: feedback, the question log, reviewed answers and superseded documents.

SQLite under the data directory by default; ``ILMASTO_DATABASE_URL`` selects another database that SQLAlchemy
supports (PostgreSQL: ``postgresql+psycopg://user:pass@host/db`` with the ``postgres`` extra). The schema is
owned by the Alembic migrations in ``bot/migrations``, applied when a process first opens the database, so an
older database (such as v0.1's feedback.sqlite3) is upgraded in place and never recreated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, create_engine, event, text)
from sqlalchemy.engine import Connection, Engine

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
question_log_table = Table(
    "question_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("municipality", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("best_score", Float),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list of {n, doc_id, title, page, quote}
    Column("doc_ids", Text, nullable=False),  # JSON list of the cited doc_ids, in citation order
)
citation_review_table = Table(
    "citation_review",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("log_id", Integer, ForeignKey("question_log.id", ondelete="CASCADE"), nullable=False),
    Column("n", Integer, nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("log_id", "n"),
)
reviewed_answer_table = Table(
    "reviewed_answer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("municipality", String(64)),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list of {n, doc_id, title, quote, page, source_url}
    Column("reviewed_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
)
superseded_table = Table(
    "superseded_document",
    metadata,
    Column("doc_id", String(512), primary_key=True),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)

MIGRATIONS = "bot:migrations"
SQLITE_BUSY_TIMEOUT_S = 30
POSTGRES_MIGRATION_LOCK = 0x11A5_7001  # any constant shared by every process of the app

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def open_database(url: str) -> Engine:
    """The engine for ``url``, migrated to the newest schema; one per URL and process."""
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            engine = _create_engine(url)
            migrate(engine)
            _ENGINES[url] = engine
        return _ENGINES[url]


def _create_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _sqlite_own_transactions(dbapi_connection, _record) -> None:
        # pysqlite's implicit transactions skip DDL; SQLAlchemy's documented recipe lets BEGIN be ours.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("migrating") else "BEGIN")

    return engine


def migrate(engine: Engine) -> None:
    """Apply every migration not yet applied, holding a lock so that processes starting together take turns."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with _migration_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.info["migrating"] = True  # SQLite: BEGIN IMMEDIATE takes the write lock up front
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK})
                yield conn
        finally:
            conn.info.pop("migrating", None)
