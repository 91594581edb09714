"""The Finnish chat window (Gradio): questions in, streamed cited answers out, sources beside them.

    python ui.py [--host 127.0.0.1] [--port 7860] [--data-dir data]

Ingests corpus/ first when the store is empty or stale (search works within seconds; embeddings are built in
the background), then serves the chat on http://127.0.0.1:7860/.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from dataclasses import dataclass, field
from typing import Iterator

from bot.settings import settings_or_exit  # sets the offline environment before gradio is imported

import gradio as gr  # noqa: E402

from bot.answer_types import Answer, Final  # noqa: E402
from bot.feedback import FeedbackStore  # noqa: E402
from bot.municipalities import MUNICIPALITIES  # noqa: E402
from bot.service import BotService, NotReady  # noqa: E402
from bot.suggestions import EXAMPLE_QUESTIONS  # noqa: E402
from web.inputs import capped_history, is_readable  # noqa: E402
from web.ratelimit import RATE_LIMITED, QuestionLimit  # noqa: E402
from web.render import answer_markdown, escape_markdown, privacy_notice, sources_html  # noqa: E402

log = logging.getLogger(__name__)

TITLE = "Keski-Suomen kuntien ilmastobotti"
INTRO = (
    "Kysy kuntien ilmastotyöstä: päästöistä ja tavoitteista, ilmastolaista, rahoituksesta, verkostoista ja "
    "työkaluista. Vastaan **vain** Keski-Suomen kuntien ilmastotietopaketin, materiaalien ja kuntakohtaisten "
    "tiivistelmien perusteella, ja jokaisen väitteen perässä on lähde [1], jonka voit tarkistaa oikealta. "
    "Jos aineisto ei kata kysymystä, kerron sen."
)
WHOLE_REGION = "Koko Keski-Suomi"
THINKING = "…"
EMPTY_QUESTION = "(tyhjä kysymys)"
UNREADABLE_QUESTION = "(kysymystä ei voitu lukea)"
UNREADABLE = "Kysymyksessä on merkkejä, joita en pysty käsittelemään. Kirjoita kysymys uudelleen."
FAILED = "Vastauksen hakeminen epäonnistui. Yritä hetken kuluttua uudelleen."
NO_ANSWER_YET = "Kysy ensin jotain, niin voit arvioida vastauksen."
THANKS = "Kiitos palautteesta!"


@dataclass(frozen=True)
class Turn:
    """One question and what the chat showed for it; the app keeps these, Gradio only displays them."""

    question: str  # as typed, for follow-ups and feedback
    shown_question: str  # Markdown
    shown_answer: str  # Markdown
    answer: str = ""  # the answer's text, empty when none was given (not ready, limited, failed)
    citations: tuple[dict, ...] = ()

    @property
    def answered(self) -> bool:
        return bool(self.answer)

    def messages(self) -> list[dict]:
        return [{"role": "user", "content": self.shown_question}, {"role": "assistant", "content": self.shown_answer}]


@dataclass(frozen=True)
class Conversation:
    """The turns of one browser session, in order (the chat's message i // 2 is turn i // 2)."""

    turns: tuple[Turn, ...] = field(default_factory=tuple)

    def history(self, max_chars: int) -> list[tuple[str, str]]:
        """The answered (question, answer) pairs, cut to size, for rewriting a follow-up."""
        return capped_history(((t.question, t.answer) for t in self.turns if t.answered), max_chars)

    def messages(self) -> list[dict]:
        return [m for t in self.turns for m in t.messages()]

    def adding(self, turn: Turn) -> "Conversation":
        return Conversation(self.turns + (turn,))


def shown(question: str) -> str:
    """The question as the chat shows it: escaped, and never text the browser cannot take."""
    if not is_readable(question):
        return UNREADABLE_QUESTION
    return escape_markdown(question.strip() or EMPTY_QUESTION)


def client_address(request: gr.Request | None) -> str | None:
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


class ChatWindow:
    """The chat's event handlers: answers through the service under the shared question limit."""

    def __init__(self, service: BotService, limit: QuestionLimit):
        self.service = service
        self.limit = limit
        self.feedback = FeedbackStore(service.settings.feedback_url)

    def respond(self, question: str, conversation: Conversation, municipality: str | None,
                request: gr.Request | None = None) -> Iterator[tuple]:
        """Yields (question box, chat messages, sources panel, conversation) while the answer is written."""
        pending = Turn(question, shown(question), THINKING)
        yield "", conversation.messages() + pending.messages(), gr.update(), conversation
        if not is_readable(question):
            yield self._unanswered(conversation, pending, UNREADABLE, keep="")
            return
        if self.limit.retry_after(client_address(request)):
            yield self._unanswered(conversation, pending, RATE_LIMITED, keep=question)
            return
        chosen = None if municipality in (None, "", WHOLE_REGION) else municipality
        streamed = ""
        try:
            events = self.service.stream(question, municipality=chosen,
                                         history=conversation.history(self.service.settings.max_question_chars))
            for event in itertools.chain([next(events)], events):
                if isinstance(event, Final):
                    yield self._answered(conversation, pending, event.answer)
                else:
                    streamed += event.text
                    turn = Turn(question, pending.shown_question, escape_markdown(streamed))
                    yield "", conversation.messages() + turn.messages(), gr.update(), conversation
        except NotReady as exc:  # the question stays in the box, to be sent again
            yield self._unanswered(conversation, pending, str(exc), keep=question)
        except Exception:  # the reader sees a Finnish sentence, the operator the traceback
            log.exception("answering in the chat failed")
            yield self._unanswered(conversation, pending, FAILED, keep=question)

    @staticmethod
    def _answered(conversation: Conversation, pending: Turn, answer: Answer) -> tuple:
        turn = Turn(pending.question, pending.shown_question, answer_markdown(answer), answer.answer,
                    tuple(c.as_json() for c in answer.citations))
        after = conversation.adding(turn)
        return "", after.messages(), sources_html(answer), after

    @staticmethod
    def _unanswered(conversation: Conversation, pending: Turn, message: str, keep: str) -> tuple:
        after = conversation.adding(Turn(pending.question, pending.shown_question, escape_markdown(message)))
        return keep, after.messages(), gr.update(), after

    def rate(self, conversation: Conversation, rating: str, comment: str) -> tuple[str, str]:
        """Feedback from the buttons below the chat, on the latest answer."""
        answered = [t for t in conversation.turns if t.answered]
        if not answered:
            return NO_ANSWER_YET, comment
        self._store(answered[-1], rating, comment)
        return THANKS, ""

    def like(self, conversation: Conversation, data: gr.LikeData) -> str:
        """Feedback from the thumbs on one answer in the chat."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        position = index // 2  # every answer follows its question
        if 0 <= position < len(conversation.turns) and conversation.turns[position].answered:
            self._store(conversation.turns[position], "up" if data.liked else "down")
            return THANKS
        return ""

    def _store(self, turn: Turn, rating: str, comment: str = "") -> None:
        self.feedback.add(rating, turn.question, turn.answer, list(turn.citations), comment)


def build_ui(service: BotService, limit: QuestionLimit | None = None) -> gr.Blocks:
    """The chat page. None of its events is published as an API: /api/* is the documented way in."""
    chat = ChatWindow(service, limit or QuestionLimit.from_settings(service.settings))
    max_chars = service.settings.max_question_chars
    with gr.Blocks(title=TITLE, analytics_enabled=False) as ui:
        gr.Markdown(f"# {TITLE}\n\n{INTRO}")
        status = gr.Markdown(service.status.message(), elem_id="tila")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                municipality = gr.Dropdown(
                    [WHOLE_REGION, *MUNICIPALITIES], value=WHOLE_REGION, label="Kunta (valinnainen)",
                    info="Valitse kunta, niin sen aineistoa painotetaan.", elem_id="kunta",
                )
                chatbot = gr.Chatbot(label="Keskustelu", height=520, elem_id="keskustelu", buttons=["copy"],
                                     placeholder="Kysy esimerkiksi: Mitä ilmastolaki vaatii kunnalta?")
                with gr.Row():
                    question = gr.Textbox(placeholder="Kirjoita kysymys…", label="Kysymys", show_label=False,
                                          scale=5, elem_id="kysymys", max_lines=4, max_length=max_chars)
                    send = gr.Button("Kysy", variant="primary", scale=1, elem_id="laheta")
                gr.Markdown(privacy_notice(service.settings.log_retention_days), elem_id="tietosuoja")
                gr.Examples(list(EXAMPLE_QUESTIONS[:6]), inputs=question, label="Esimerkkikysymyksiä")
                with gr.Accordion("Anna palautetta viimeisimmästä vastauksesta", open=False):
                    comment = gr.Textbox(label="Kommentti (valinnainen)", max_lines=3)
                    with gr.Row():
                        good = gr.Button("👍 Hyödyllinen", size="sm")
                        bad = gr.Button("👎 Ei hyödyllinen", size="sm")
                    thanks = gr.Markdown()
            with gr.Column(scale=2):
                gr.Markdown("### Lähteet")
                sources = gr.HTML(sources_html(None), elem_id="lahteet")
        conversation = gr.State(Conversation())
        inputs = [question, conversation, municipality]
        outputs = [question, chatbot, sources, conversation]
        # Both ways of asking share one pool of workers, so a slow streamed answer does not hold up everyone.
        answering = {"concurrency_limit": service.settings.chat_concurrency, "concurrency_id": "answer"}
        question.submit(chat.respond, inputs, outputs, api_name=False, **answering)
        send.click(chat.respond, inputs, outputs, api_name=False, **answering)
        good.click(lambda c, text: chat.rate(c, "up", text), [conversation, comment], [thanks, comment], api_name=False)
        bad.click(lambda c, text: chat.rate(c, "down", text), [conversation, comment], [thanks, comment],
                  api_name=False)
        chatbot.like(chat.like, [conversation], [thanks], api_name=False)
        ui.load(service.status.message, None, status, api_name=False)  # current on every page load, not as built
        if not service.status.dense_ready:
            timer = gr.Timer(3)

            def refresh_status() -> tuple[str, gr.Timer]:
                return service.status.message(), gr.Timer(active=not service.status.dense_ready)

            timer.tick(refresh_status, None, [status, timer], api_name=False)
    return ui


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python ui.py", description="Serve the Finnish climate chat.")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or ILMASTO_HOST)")
    parser.add_argument("--port", type=int, help="port (default 7860, or ILMASTO_PORT)")
    parser.add_argument("--data-dir", help="store, indexes and logs (default data/, or ILMASTO_DATA_DIR)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_or_exit(host=args.host, port=args.port, data_dir=args.data_dir)
    import uvicorn

    from web.app import create_app

    service = BotService(settings)
    print(f"Ilmastobotti: http://{settings.host}:{settings.port}/  ({service.status.message()})", file=sys.stderr)
    uvicorn.run(create_app(service), host=settings.host, port=settings.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
