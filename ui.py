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
from typing import Iterator

from bot.settings import settings_or_exit  # sets the offline environment before gradio is imported

import gradio as gr  # noqa: E402

from bot.answer import Final  # noqa: E402
from bot.conversation import question_answer_pairs  # noqa: E402
from bot.feedback import FeedbackStore  # noqa: E402
from bot.municipalities import MUNICIPALITIES  # noqa: E402
from bot.service import BotService, NotReady  # noqa: E402
from bot.suggestions import EXAMPLE_QUESTIONS  # noqa: E402
from web.render import answer_markdown, escape_markdown, sources_html  # noqa: E402

TITLE = "Keski-Suomen kuntien ilmastobotti"
INTRO = (
    "Kysy kuntien ilmastotyöstä: päästöistä ja tavoitteista, ilmastolaista, rahoituksesta, verkostoista ja "
    "työkaluista. Vastaan **vain** Keski-Suomen kuntien ilmastotietopaketin, materiaalien ja kuntakohtaisten "
    "tiivistelmien perusteella, ja jokaisen väitteen perässä on lähde [1], jonka voit tarkistaa oikealta. "
    "Jos aineisto ei kata kysymystä, kerron sen."
)
WHOLE_REGION = "Koko Keski-Suomi"
THINKING = "…"


def chat_history(messages: list[dict]) -> list[tuple[str, str]]:
    """(question, answer) pairs of the conversation so far (the questions as typed), for follow-ups."""
    return question_answer_pairs(
        (m["role"], m.get("metadata", {}).get("question") or m["content"]) for m in messages
    )


def build_ui(service: BotService) -> gr.Blocks:
    feedback = FeedbackStore(service.settings.feedback_url)

    def respond(question: str, messages: list[dict], municipality: str, answers: list[dict]) -> Iterator[tuple]:
        history = chat_history(messages)
        shown = question.strip() or "(tyhjä kysymys)"
        messages = messages + [
            {"role": "user", "content": escape_markdown(shown), "metadata": {"question": question}},
            {"role": "assistant", "content": THINKING},
        ]
        yield "", messages, gr.update(), answers
        chosen = None if municipality in (None, "", WHOLE_REGION) else municipality
        streamed = ""
        try:
            events = service.stream(question, municipality=chosen, history=history)
            first = next(events)
        except NotReady as exc:  # the question stays in the box; the answer list stays aligned with the chat
            messages[-1] = {"role": "assistant", "content": escape_markdown(str(exc))}
            yield question, messages, gr.update(), answers + [{"question": question, "answer": str(exc), "citations": []}]
            return
        for event in itertools.chain([first], events):
            if isinstance(event, Final):
                answer = event.answer
                messages[-1] = {"role": "assistant", "content": answer_markdown(answer)}
                record = {"question": question, "answer": answer.answer, "citations": [c.as_json() for c in answer.citations]}
                yield "", messages, sources_html(answer), answers + [record]
            else:
                streamed += event.text
                messages[-1] = {"role": "assistant", "content": escape_markdown(streamed)}
                yield "", messages, gr.update(), answers

    def rate(answers: list[dict], rating: str, comment: str) -> tuple[str, str]:
        if not answers:
            return "Kysy ensin jotain, niin voit arvioida vastauksen.", comment
        last = answers[-1]
        feedback.add(rating, last["question"], last["answer"], last["citations"], comment)
        return "Kiitos palautteesta!", ""

    def like(answers: list[dict], data: gr.LikeData) -> str:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        position = index // 2  # every answer follows its question
        if 0 <= position < len(answers):
            item = answers[position]
            feedback.add("up" if data.liked else "down", item["question"], item["answer"], item["citations"])
            return "Kiitos palautteesta!"
        return ""

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
                    question = gr.Textbox(placeholder="Kirjoita kysymys…", show_label=False, scale=5, elem_id="kysymys",
                                          max_lines=4)
                    send = gr.Button("Kysy", variant="primary", scale=1, elem_id="laheta")
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
        answers = gr.State([])
        inputs = [question, chatbot, municipality, answers]
        outputs = [question, chatbot, sources, answers]
        question.submit(respond, inputs, outputs, api_name="ask")
        send.click(respond, inputs, outputs, api_name=False)
        good.click(lambda a, c: rate(a, "up", c), [answers, comment], [thanks, comment])
        bad.click(lambda a, c: rate(a, "down", c), [answers, comment], [thanks, comment])
        chatbot.like(like, [answers], [thanks])
        if not service.status.dense_ready:
            timer = gr.Timer(3)

            def refresh_status() -> tuple[str, gr.Timer]:
                return service.status.message(), gr.Timer(active=not service.status.dense_ready)

            timer.tick(refresh_status, None, [status, timer])
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
