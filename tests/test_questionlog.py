"""The question log: what is written (and what is not), masking, retention, filters and citation reviews."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from bot.answer_types import Answer, Citation, Final, TextPiece
from bot.database import feedback_table, question_log_table
from bot.feedback import FeedbackStore
from bot.privacy import mask_personal_data
from bot.questionlog import QuestionLog
from bot.service import BotService
from tests.conftest import make_settings
from tests.services_postgres import database_url, postgres_server  # noqa: F401 (fixtures)


def cited_answer(outcome: str = "answered", score: float | None = 0.91) -> Answer:
    citations = [Citation(n=1, doc_id="kunnat/laukaa.md", title="Laukaa", page=None, municipality="Laukaa",
                          source_url=None, quote="Tieliikenne on suurin päästölähde."),
                 Citation(n=2, doc_id="rahoitus.md", title="Rahoitus", page=3, municipality=None, source_url=None,
                          quote="Ympäristöministeriö myöntää avustuksia.")]
    return Answer("Tieliikenne [1]. Avustuksia [2].", refused=outcome == "refused", partial=outcome == "partial",
                  citations=citations if outcome != "refused" else [], best_score=score)


@pytest.fixture
def settings(tmp_path, database_url):
    return make_settings(tmp_path / "data", database_url=database_url)


class FakeAnswerer:
    """Stands in for the answer engine: one fixed answer, streamed as the real one is."""

    def __init__(self, settings):
        self.retriever = type("R", (), {"records": [], "dense_ready": lambda self: True})()

    def stream(self, question, municipality=None, history=None):
        yield TextPiece("Tieliikenne [1].")
        yield Final(cited_answer())


@pytest.fixture
def service(settings, monkeypatch) -> BotService:
    monkeypatch.setattr("bot.service.Answerer", FakeAnswerer)
    return BotService(settings, ingest_on_start=False)


@pytest.mark.parametrize("text, masked", [
    ("Hetuni on 131052-308T.", "Hetuni on [henkilötunnus]."),
    ("010594Y9032 ja 010594y9032", "[henkilötunnus] ja [henkilötunnus]"),  # the 1900s signs of 2023
    ("Lapsen 010105B123X, isoisän 311299+123K, 120300A123B", "Lapsen [henkilötunnus], isoisän [henkilötunnus], [henkilötunnus]"),
    ("Soita 040 123 4567 tai 040-1234567.", "Soita [puhelinnumero] tai [puhelinnumero]."),
    ("Numero +358 40 123 4567 tai (014) 266 0000", "Numero [puhelinnumero] tai [puhelinnumero]"),
    ("Lontoo +44 20 7946 0958, USA +1 (555) 123-4567", "Lontoo [puhelinnumero], USA [puhelinnumero]"),
    ("Vastaa osoitteeseen maija.meikalainen@jyvaskyla.fi kiitos", "Vastaa osoitteeseen [sähköposti] kiitos"),
])
def test_personal_data_is_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "Paljonko päästöt olivat vuonna 2021?", "Tieliikenteen osuus oli 35 % ja päästöt 1 200 000 tonnia.",
    "Päätös tehtiin 1.6.2022 (§ 16).", "Tavoite vuosille 2020-2030 ja 2035", "Avustus 120 000 euroa, 0,5 milj.",
])
def test_questions_about_figures_are_kept_as_they_are(text):
    assert mask_personal_data(text) == text


def test_each_final_answer_is_logged_once_with_outcome_score_and_cited_documents(service):
    answer = service.answer("Mitkä ovat Laukaan päästöt? Soita 040 123 4567", municipality=None)
    assert answer.answer.startswith("Tieliikenne")
    [row] = service.question_log.rows()
    assert row.question == "Mitkä ovat Laukaan päästöt? Soita [puhelinnumero]"
    assert (row.municipality, row.outcome, row.best_score) == ("Laukaa", "answered", pytest.approx(0.91))
    assert row.doc_ids == ["kunnat/laukaa.md", "rahoitus.md"]
    assert row.citations[1] == {"n": 2, "doc_id": "rahoitus.md", "title": "Rahoitus", "page": 3,
                                "quote": "Ympäristöministeriö myöntää avustuksia."}
    assert set(row.as_json()) == {"id", "created_at", "question", "municipality", "outcome", "best_score", "answer",
                                  "citations", "doc_ids", "reviews"}  # no address, no user identifier


def test_logging_can_be_turned_off(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr("bot.service.Answerer", FakeAnswerer)
    service = BotService(make_settings(tmp_path / "d", database_url=database_url, question_log=False),
                         ingest_on_start=False)
    service.answer("Mistä rahoitusta?")
    assert service.question_log.rows() == []


def test_rows_older_than_the_retention_are_purged_on_open(settings):
    log = QuestionLog(settings)
    old, new = log.record("Vanha kysymys?", None, cited_answer()), log.record("Uusi kysymys?", None, cited_answer())
    log.mark_citation(old, 1, correct=False)
    with log.engine.begin() as conn:
        conn.execute(update(question_log_table).where(question_log_table.c.id == old)
                     .values(created_at=datetime.now(timezone.utc) - timedelta(days=181)))
    assert [r.id for r in QuestionLog(settings).rows()] == [new]


def test_feedback_older_than_the_retention_is_purged_with_the_log(settings):
    store = FeedbackStore(settings.feedback_url)
    store.add("down", "Vanha kysymys?", "Vastaus", [], "vanha kommentti")
    store.add("up", "Uusi kysymys?", "Vastaus", [])
    with store.engine.begin() as conn:
        conn.execute(update(feedback_table).where(feedback_table.c.comment == "vanha kommentti")
                     .values(created_at=datetime.now(timezone.utc) - timedelta(days=181)))
    QuestionLog(settings)
    assert [r["question"] for r in store.all()] == ["Uusi kysymys?"]


def test_the_purge_runs_again_after_a_day(settings, monkeypatch):
    log = QuestionLog(settings)
    old = log.record("Vanha kysymys?", None, cited_answer())
    with log.engine.begin() as conn:
        conn.execute(update(question_log_table).values(created_at=datetime.now(timezone.utc) - timedelta(days=200)))
    assert [r.id for r in log.rows()] == [old]  # purged on open already today
    monkeypatch.setattr("bot.questionlog.PURGE_INTERVAL_S", 0)
    assert log.rows() == []


def test_filters_by_outcome_municipality_text_and_age(settings):
    log = QuestionLog(settings)
    log.record("Mitkä ovat Laukaan päästöt?", None, cited_answer())
    log.record("Mikä on Hinku?", "Joutsa", cited_answer("refused", None))
    log.record("Paljonko 100% uusiutuvaa?", None, cited_answer("partial", 0.86))
    assert [r.question for r in log.rows(outcome="refused")] == ["Mikä on Hinku?"]
    assert [r.question for r in log.rows(municipality="joutsa")] == ["Mikä on Hinku?"]
    assert [r.question for r in log.rows(contains="LAUKAAN")] == ["Mitkä ovat Laukaan päästöt?"]
    assert [r.question for r in log.rows(contains="100%")] == ["Paljonko 100% uusiutuvaa?"]
    assert len(log.rows(days=1)) == 3 and len(log.rows(limit=2)) == 2


def test_a_reviewer_marks_each_citation_right_or_wrong_and_can_change_their_mind(settings):
    log = QuestionLog(settings)
    entry = log.record("Mitkä ovat Laukaan päästöt?", None, cited_answer())
    log.mark_citation(entry, 1, correct=True)
    log.mark_citation(entry, 2, correct=True)
    log.mark_citation(entry, 2, correct=False)
    assert log.get(entry).reviews == {1: True, 2: False}
    with pytest.raises(KeyError):
        log.mark_citation(entry, 3, correct=True)


def test_a_failing_database_never_costs_the_user_the_answer(service, monkeypatch, caplog):
    def disk_full():
        raise OperationalError("INSERT INTO question_log", {}, Exception("disk full"))

    monkeypatch.setattr(service.question_log.engine, "begin", disk_full)
    assert service.answer("Mistä rahoitusta?").answer.startswith("Tieliikenne")
    assert "could not write the question log" in caplog.text
