"""The running bot behind the chat window and the API: a fresh store and one Answerer.

At start the lexical phase of ingest runs (seconds), so answers are possible at once; embedding whatever is
missing runs in a background thread, and the Answerer switches to hybrid retrieval when it is done.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from bot.answer import Answerer
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class IndexStatus:
    chunks: int = 0
    embedded: int = 0
    to_embed: int = 0
    dense_ready: bool = False
    error: str | None = None

    def message(self) -> str:
        """A short Finnish status line for the UI."""
        if self.error:
            return f"Hakuindeksin rakentaminen epäonnistui: {self.error}. Vastaukset perustuvat sanahakuun."
        if self.dense_ready:
            return f"Aineisto valmiina: {self.chunks} tekstikappaletta."
        return (
            f"Hakuindeksiä rakennetaan taustalla ({self.embedded}/{self.to_embed} kappaletta). "
            "Vastaan jo nyt sanahaun avulla."
        )


class BotService:
    """Owns the Answerer of one data directory and keeps its store in step with the corpus."""

    def __init__(self, settings: Settings, ingest_on_start: bool = True):
        self.settings = settings
        self.status = IndexStatus()
        self._dense_thread: threading.Thread | None = None
        records = None
        if ingest_on_start:
            from ingest.pipeline import lexical_phase

            report, records = lexical_phase(settings, [settings.corpus_dir], progress=False)
            for skipped in report.skipped:
                log.warning("skipped %s: %s", skipped["path"], skipped["reason"])
        self.answerer = Answerer(settings)
        self.status.chunks = len(self.answerer.retriever.records)
        self.status.dense_ready = self.answerer.retriever.dense_ready()
        if ingest_on_start and not self.status.dense_ready:
            self._dense_thread = threading.Thread(target=self._build_dense, args=(records,), name="dense-ingest", daemon=True)
            self._dense_thread.start()

    def _build_dense(self, records) -> None:
        from ingest.pipeline import dense_phase

        def progress(done: int, total: int) -> None:
            self.status.embedded, self.status.to_embed = done, total

        try:
            dense_phase(self.settings, records, progress=False, on_progress=progress)
            self.answerer.reload()
            self.status.dense_ready = self.answerer.retriever.dense_ready()
        except Exception as exc:  # the app keeps answering lexically; the operator sees why
            log.exception("building the dense index failed")
            self.status.error = str(exc)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        if self._dense_thread is not None:
            self._dense_thread.join(timeout)
        return self.status.dense_ready
