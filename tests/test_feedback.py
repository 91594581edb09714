"""Feedback in the app's database: SQLite and PostgreSQL, and the upgrade of a v0.1 database."""

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, inspect, text

from bot.feedback import FeedbackStore
from bot.settings import PROJECT_ROOT
from tests.services_postgres import database_url, postgres_server  # noqa: F401 (fixtures)


def v01_feedback_database(url: str, rows: int) -> None:
    """The database exactly as v0.1 left it: its feedback table, made by create_all, and no Alembic table."""
    metadata = MetaData()
    table = Table(
        "feedback", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("rating", String(8), nullable=False),
        Column("comment", Text, nullable=False, default=""),
        Column("question", Text, nullable=False),
        Column("answer", Text, nullable=False),
        Column("citations", Text, nullable=False),
    )
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for i in range(rows):
            conn.execute(table.insert().values(created_at=datetime.now(timezone.utc), rating="down", comment=f"c{i}",
                                               question=f"Kysymys {i}?", answer="Vastaus [1]", citations="[]"))
    engine.dispose()


def test_feedback_is_stored_and_filtered(database_url):
    store = FeedbackStore(database_url)
    store.add("down", "Mitä ilmastolaki vaatii?", "Vastaus [1]", [{"n": 1, "doc_id": "a.md"}], "Puuttui pykälä")
    store.add("up", "Mistä rahoitusta?", "Vastaus [1]", [])
    assert [(r["rating"], r["comment"]) for r in store.all()] == [("down", "Puuttui pykälä"), ("up", "")]
    assert store.all()[0]["citations"] == [{"n": 1, "doc_id": "a.md"}]
    assert [r["question"] for r in store.all(rating="up", days=1)] == ["Mistä rahoitusta?"]
    with pytest.raises(ValueError):
        store.add("meh", "q", "a", [])


def test_personal_data_in_feedback_is_masked_before_it_is_written(database_url):
    store = FeedbackStore(database_url)
    store.add("down", "Olen 131052-308T, mistä tukea?", "Vastaus", [], "Soita 040 123 4567 tai maija@example.fi")
    row = store.all()[0]
    assert row["question"] == "Olen [henkilötunnus], mistä tukea?"
    assert row["comment"] == "Soita [puhelinnumero] tai [sähköposti]"


def test_a_v01_database_is_upgraded_in_place_without_losing_rows(database_url):
    v01_feedback_database(database_url, rows=25)
    store = FeedbackStore(database_url)
    store.add("up", "Uusi kysymys?", "Vastaus", [])
    rows = store.all()
    assert len(rows) == 26
    assert rows[0]["comment"] == "c0" and rows[24]["question"] == "Kysymys 24?"
    assert {"question_log", "reviewed_answer", "superseded_document"} <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"


def test_processes_opening_a_new_database_together_all_get_the_schema(database_url):
    opener = "import sys; from bot.feedback import FeedbackStore; FeedbackStore(sys.argv[1]).add('up', 'q', 'a', [])"
    processes = [subprocess.Popen([sys.executable, "-c", opener, database_url], cwd=PROJECT_ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], errors
    assert len(FeedbackStore(database_url).all()) == 3
