"""The chat window's handlers with a scripted service: the conversation lives in the app's own state, a limit or
a failure is a Finnish sentence in the chat, never a Python error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from starlette.routing import Mount

from bot.answer_types import Answer, Citation, Final, TextPiece
from bot.service import IndexStatus
from conftest import make_settings
from tests.browser import serve
from tests.gradio_queue import ask_through_the_queue, chat_dependency
from ui import FAILED, UNREADABLE, ChatWindow, Conversation
from web.app import create_app
from web.ratelimit import RATE_LIMITED, QuestionLimit


class ScriptedService:
    """Answers every question with one cited sentence naming it, and remembers the history it was given."""

    def __init__(self, settings, failure: Exception | None = None):
        self.settings = settings
        self.failure = failure
        self.histories: list[list[tuple[str, str]]] = []

    def stream(self, question, municipality=None, history=None):
        self.histories.append(list(history or []))
        if self.failure:
            raise self.failure
        text = f"Vastaus kysymykseen {question} [1]"
        yield TextPiece(text)
        citation = Citation(n=1, doc_id="kunnat/laukaa.md", title="Laukaa", page=None, municipality="Laukaa",
                            source_url=None, quote=text, chunk_text=text)
        yield Final(Answer(text, refused=False, citations=[citation]))


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data")


def last(events) -> tuple:
    *_, final = events
    return final


def test_each_question_sees_the_earlier_questions_as_typed(settings):
    service = ScriptedService(settings)
    chat = ChatWindow(service, QuestionLimit(0))
    conversation = Conversation()
    for question in ("Mitkä ovat Jyväskylän päästöt?", "Entä Laukaassa?", "Mikä on Hinku?"):
        box, messages, sources, conversation = last(chat.respond(question, conversation, "Koko Keski-Suomi"))
        assert box == "" and 'id="lahde-1"' in sources
    assert [h[-1][0] if h else None for h in service.histories] == [
        None, "Mitkä ovat Jyväskylän päästöt?", "Entä Laukaassa?"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert all("#lahde-1" in m["content"] for m in messages[1::2])
    assert [t.citations[0]["doc_id"] for t in conversation.turns] == ["kunnat/laukaa.md"] * 3


def test_a_failure_is_a_finnish_sentence_without_the_exception_text(settings):
    chat = ChatWindow(ScriptedService(settings, failure=KeyError("salainen-kappale-42")), QuestionLimit(0))
    outputs = list(chat.respond("Mitä ilmastolaki vaatii?", Conversation(), None))
    box, messages, _, conversation = outputs[-1]
    assert messages[-1]["content"] == FAILED
    assert box == "Mitä ilmastolaki vaatii?"  # kept, to be sent again
    assert "salainen" not in repr(outputs) and "KeyError" not in repr(outputs)
    assert not conversation.history(500)  # an unanswered turn is no context for a follow-up


def test_text_that_cannot_be_encoded_is_never_answered_nor_shown(settings):
    service = ScriptedService(settings)
    chat = ChatWindow(service, QuestionLimit(0))
    outputs = list(chat.respond("ilmasto\ud800laki", Conversation(), None))
    assert outputs[-1][1][-1]["content"] == UNREADABLE
    assert "\ud800" not in repr([o[:2] for o in outputs]) and service.histories == []


def test_the_chat_counts_against_the_question_limit_of_its_address(settings):
    chat = ChatWindow(ScriptedService(settings), QuestionLimit(2))
    request = SimpleNamespace(client=SimpleNamespace(host="192.0.2.7"))
    answers = [last(chat.respond("Mitä ilmastolaki vaatii?", Conversation(), None, request))[1][-1]["content"]
               for _ in range(3)]
    assert "#lahde-1" in answers[0] and "#lahde-1" in answers[1]
    assert answers[2] == RATE_LIMITED
    other = SimpleNamespace(client=SimpleNamespace(host="192.0.2.8"))
    assert "#lahde-1" in last(chat.respond("Mitä ilmastolaki vaatii?", Conversation(), None, other))[1][-1]["content"]


def test_feedback_goes_to_the_answer_it_was_given_for(settings):
    chat = ChatWindow(ScriptedService(settings), QuestionLimit(0))
    conversation = Conversation()
    for question in ("Ensimmäinen kysymys ilmastosta?", "Toinen kysymys ilmastosta?"):
        conversation = last(chat.respond(question, conversation, None))[3]
    assert chat.like(conversation, SimpleNamespace(index=[0, 1], liked=True)) == "Kiitos palautteesta!"
    assert chat.rate(conversation, "down", "huono")[0] == "Kiitos palautteesta!"
    assert chat.rate(Conversation(), "up", "")[0].startswith("Kysy ensin")
    assert {(f["rating"], f["question"]) for f in chat.feedback.all()} == {("up", "Ensimmäinen kysymys ilmastosta?"),
                                                                         ("down", "Toinen kysymys ilmastosta?")}


def test_html_and_markdown_in_a_question_are_shown_as_text(settings):
    chat = ChatWindow(ScriptedService(settings), QuestionLimit(0))
    messages = last(chat.respond("<script>alert('x')</script> Mitä [linkki](javascript:alert(1)) on?", Conversation(),
                                 None))[1]
    assert "<script>" not in messages[0]["content"] and "&lt;script&gt;" in messages[0]["content"]
    assert "](javascript" not in messages[0]["content"]


def test_should_a_handler_fail_the_page_shows_no_exception_text(settings):
    service = SimpleNamespace(settings=settings, status=IndexStatus(chunks=1, lexical_ready=True, dense_ready=True))
    gradio = next(route.app for route in create_app(service).routes if isinstance(route, Mount))
    assert gradio.get_blocks().show_error is False


class MeetingService(ScriptedService):
    """Answers only when two questions are being answered at the same moment (a barrier of two)."""

    status = IndexStatus(chunks=1, lexical_ready=True, dense_ready=True)

    def __init__(self, settings):
        super().__init__(settings)
        self.meeting = threading.Barrier(2, timeout=15)

    def stream(self, question, municipality=None, history=None):
        self.meeting.wait()  # one at a time, the first would wait here in vain and fail
        yield from super().stream(question, municipality, history)


@pytest.mark.slow
def test_two_people_asking_at_once_are_answered_side_by_side(tmp_path):
    service = MeetingService(make_settings(tmp_path / "data", chat_concurrency=2))
    served = serve(create_app(service))
    base = next(served)
    try:
        event = chat_dependency(base)
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda q: ask_through_the_queue(base, event, q), ["Ensimmäinen?", "Toinen?"]))
    finally:
        next(served, None)
    assert "Ensimmäinen" in answers[0] and "Toinen" in answers[1]
