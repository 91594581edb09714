"""The running bot behind the chat window and the API: a fresh store and one Answerer.

The app must answer soon after it starts, even on a fresh machine. So the store is prepared in a background
thread while the web server starts: first the lexical phase of ingest (seconds), after which questions are
answered with lexical search; then the embeddings of whatever is missing, after which retrieval is hybrid.

Another process may ingest into the same data directory (the command line, the admin page, another app
worker): every ingest writes a generation marker last, and the service looks at it at most every
``GENERATION_CHECK_S`` seconds before an answer, reloading the store when it changed. No restart is needed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.answer import Answerer
from bot.answer_types import Answer, AnswerEvent, Final, final_answer
from bot.finnish import load_dictionary_in_background
from bot.questionlog import QuestionLog
from bot.reviewed import ReviewedAnswers
from bot.settings import Settings

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 120.0
GENERATION_CHECK_S = 2.0  # how stale the store may be after another process finished an ingest


class NotReady(RuntimeError):
    """The store is not open yet (or could not be opened); the message is for the user, in Finnish."""


@dataclass
class IndexStatus:
    chunks: int = 0
    embedded: int = 0
    to_embed: int = 0
    lexical_ready: bool = False
    dense_ready: bool = False
    error: str | None = None

    def message(self) -> str:
        """A short Finnish status line for the UI."""
        if self.error:
            return f"Aineiston lataaminen epäonnistui osittain: {self.error}"
        if not self.lexical_ready:
            return "Aineistoa luetaan… ensimmäiset vastaukset ovat hetken päästä valmiita."
        if self.dense_ready:
            return f"Aineisto valmiina: {self.chunks} tekstikappaletta."
        return (
            f"Hakuindeksiä rakennetaan taustalla ({self.embedded}/{self.to_embed} kappaletta). "
            "Vastaan jo nyt sanahaun avulla."
        )


# Called with (question as asked, municipality chosen, the final answer) after every answer, e.g. to log it.
AnswerObserver = Callable[[str, str | None, Answer], None]


class BotService:
    """Owns the Answerer of one data directory and keeps its store in step with the corpus.

    Every way a question arrives (chat window, API, widget) goes through ``stream``/``answer`` here, so what
    happens around an answer (observers such as the question log) happens once, in one place.
    """

    def __init__(self, settings: Settings, ingest_on_start: bool = True):
        self.settings = settings
        self.status = IndexStatus()
        self.question_log, self.reviewed = QuestionLog(settings), ReviewedAnswers(settings)
        self.observers: list[AnswerObserver] = [self.question_log.record]
        self._answerer: Answerer | None = None
        self._ready = threading.Event()
        self._reloading = threading.Lock()
        self._generation_checked = time.monotonic()
        self._thread: threading.Thread | None = None
        if ingest_on_start:
            self._thread = threading.Thread(target=self._prepare, name="prepare-store", daemon=True)
            self._thread.start()
        else:
            self._open()

    @property
    def answerer(self) -> Answerer:
        """The Answerer, once the store is open (waits for it during start-up)."""
        if not self._ready.wait(STARTUP_TIMEOUT_S) or self._answerer is None:
            raise NotReady("Aineistoa ladataan vielä. Yritä hetken kuluttua uudelleen.")
        return self._answerer

    def stream(self, question: str, municipality: str | None = None,
               history: list[tuple[str, str]] | None = None) -> Iterator[AnswerEvent]:
        """The answer's events (text pieces, then Final): a reviewed answer when one matches, else the
        answer engine's; observers see the final answer."""
        self.follow_ingest()
        events = self.reviewed.stream(question, municipality, history)
        for event in events or self.answerer.stream(question, municipality, history):
            if isinstance(event, Final):
                for observer in self.observers:
                    observer(question, municipality, event.answer)
            yield event

    def answer(self, question: str, municipality: str | None = None,
               history: list[tuple[str, str]] | None = None) -> Answer:
        return final_answer(self.stream(question, municipality, history))

    def follow_ingest(self) -> bool:
        """Reload the store when an ingest finished since it was read (checked at most every few seconds).

        One thread reloads while the others go on answering from the store they have; True when it reloaded.
        """
        now = time.monotonic()
        if self._answerer is None or now - self._generation_checked < GENERATION_CHECK_S:
            return False
        if not self._reloading.acquire(blocking=False):
            return False
        try:
            self._generation_checked = now
            if not self._answerer.retriever.is_stale():
                return False
            log.info("the store changed on disk: reloading it")
            self._answerer.reload()
            self._update_status()
            return True
        finally:
            self._reloading.release()

    def _open(self) -> None:
        self._answerer = Answerer(self.settings)
        self._update_status()
        self.status.lexical_ready = True
        self._ready.set()

    def _update_status(self) -> None:
        self.status.chunks = len(self._answerer.retriever.records)
        self.status.dense_ready = self._answerer.retriever.dense_ready()

    def _prepare(self) -> None:
        from ingest.pipeline import dense_phase, lexical_phase, sentence_phase

        def progress(done: int, total: int) -> None:
            self.status.embedded, self.status.to_embed = done, total

        try:
            report, records = lexical_phase(self.settings, [self.settings.corpus_dir], progress=False)
            for skipped in report.skipped:
                log.warning("skipped %s: %s", skipped["path"], skipped["reason"])
            load_dictionary_in_background()  # for question words the material lacks; never waited for
            self._open()
            log.info("store open: %d chunks, lexical search ready", self.status.chunks)
            self._answerer.retriever.search("kunnan ilmastotyö")  # load the models before the first question
            log.info("models loaded")
            if not self.status.dense_ready:
                dense_phase(self.settings, records, progress=False, on_progress=progress)
                self._answerer.reload()
                self._update_status()
            sentence_phase(self.settings, records, progress=False)  # semantic evidence; cached ones are skipped
        except Exception as exc:  # the app keeps answering with what it has; the operator sees why in the log
            log.exception("preparing the store failed")
            self.status.error = str(exc)
        finally:
            self._ready.set()

    @property
    def preparing(self) -> bool:
        """True while the start-up ingest still runs: nothing else may write the store meanwhile."""
        return self._thread is not None and self._thread.is_alive()
