"""From a question to a cited Finnish answer.

The default answer is extractive and needs no LLM: the sentences of the retrieved passages that best answer
the question, copied verbatim (numbers, units and dates exactly as in the source), each with its citation
marker. With an LLM configured (bot/llm.py) the passages are handed to it instead and its citations checked.
When nothing retrieved is relevant enough the bot refuses and suggests questions the material does answer.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator, Literal

from bot.conversation import standalone_question
from bot.finnish import lemmas, split_sentences
from bot.municipalities import find_municipality, normalize_municipality
from bot.retrieval import Hit, Retriever
from bot.settings import Settings
from bot.suggestions import related_suggestions

MAX_SENTENCES = 5
MIN_SENTENCE_WORDS = 5
MIN_SHARE_OF_BEST = 0.3
# Lemmas of the notice every document opens with ("this is a summary compiled from public sources; the official
# documents are the council's"): a sentence with several of them is about the document, not an answer.
META_LEMMAS = frozenset({"tiivistelmä", "kooste", "koota", "lähde", "julkinen", "virallinen", "asiakirja", "luetella",
                         "ilmastobotti", "aineisto", "julkaisu"})
# Questions asking for an amount or a time want sentences that hold a number.
QUANTITY_WORDS = frozenset({"paljonko", "kuinka", "montako", "määrä", "osuus", "budjetti", "milloin", "vuosi", "prosentti",
                            "suuri", "moni", "summa", "euro", "tonni", "luku"})
NUMBER_BONUS = 1.5
MIN_COVERAGE_WITH_DENSE = 0.1
PART_WEIGHT = 0.25
WRITTEN_OUT_WEIGHT = 0.75
ANSWER_PASSAGES = 6  # sentences are taken from this many of the best passages
LEAD_IN = "Aineiston mukaan:"
REFUSAL = (
    "Valitettavasti käytössäni oleva aineisto ei kata tätä kysymystä, joten en voi vastata siihen luotettavasti. "
    "Vastaan vain Keski-Suomen kuntien ilmastotyön aineiston perusteella."
)
EMPTY_HINT = "Kirjoita kysymys kuntien ilmastotyöstä, esimerkiksi: Mitä ilmastolaki vaatii kunnalta?"
TOO_LONG_NOTICE = "Kysymys oli pitkä, joten käytin siitä vain {n} ensimmäistä merkkiä."


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    page: int | None
    municipality: str | None
    source_url: str | None
    quote: str
    date: str | None = None
    chunk_id: str = ""
    chunk_text: str = ""
    highlights: list[str] = field(default_factory=list)
    relevance: float = 0.0

    def as_json(self) -> dict:
        return {"n": self.n, "doc_id": self.doc_id, "title": self.title, "page": self.page,
                "municipality": self.municipality, "source_url": self.source_url, "quote": self.quote}


Outcome = Literal["answered", "partial", "refused"]


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    seconds: float = 0.0
    suggestions: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    standalone: str = ""
    partial: bool = False  # answered in part: the text names what the material does not cover
    best_score: float | None = None  # dense similarity of the best passage, for the question log

    @property
    def outcome(self) -> Outcome:
        return "refused" if self.refused else "partial" if self.partial else "answered"

    def as_json(self) -> dict:
        return {"answer": self.answer, "refused": self.refused, "outcome": self.outcome,
                "citations": [c.as_json() for c in self.citations], "seconds": round(self.seconds, 3),
                "suggestions": self.suggestions, "notices": self.notices}


@dataclass(frozen=True)
class TextPiece:
    """A piece of the answer text, streamed while the answer is written."""

    text: str


@dataclass(frozen=True)
class Final:
    """The finished answer; always the last event of a stream."""

    answer: Answer


AnswerEvent = TextPiece | Final


@dataclass
class _Candidate:
    sentence: str
    hit_index: int
    position: int
    score: float
    lemmas: frozenset[str]


class Answerer:
    """Holds the retriever (and optional LLM) of one data directory; thread-safe for reading."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None):
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        self._document_frequency()
        self.llm = None
        if settings.llm_provider != "none":
            from bot.llm import LLMAnswerer

            self.llm = LLMAnswerer(settings)

    def _document_frequency(self) -> None:
        records = self.retriever.records
        self._df = Counter(lemma for r in records for lemma in set(r.lemmas))
        self._n_docs = max(1, len(records))

    def reload(self) -> None:
        """Pick up a finished (background) ingest."""
        self.retriever.reload()
        self._document_frequency()

    def terms(self, text: str) -> set[str]:
        """Lemmas of the text with the known parts of its compounds, as the lexical index sees them."""
        return set(self.retriever.lexical.query_tokens(text))

    def idf(self, lemma: str) -> float:
        return math.log(1 + self._n_docs / (1 + self._df.get(lemma, 0)))

    # ------------------------------------------------------------ entry points

    def answer(self, question: str, municipality: str | None = None, history: list[tuple[str, str]] | None = None) -> Answer:
        """The whole answer at once (CLI, API)."""
        return final_answer(self.stream(question, municipality, history))

    def stream(self, question: str, municipality: str | None = None, history: list[tuple[str, str]] | None = None) -> Iterator[AnswerEvent]:
        """Answer text pieces as they are ready, then the final Answer (for streaming UIs)."""
        started = time.perf_counter()
        question, notices = self._clean_question(question)
        if not question:
            yield Final(Answer(EMPTY_HINT, refused=True, notices=notices, seconds=time.perf_counter() - started))
            return
        standalone = standalone_question(question, history)
        wanted = normalize_municipality(municipality) or find_municipality(standalone)
        hits = self.retriever.search(standalone, municipality=wanted)
        if not self.is_relevant(standalone, hits):
            result = self.refusal(standalone)
        elif self.llm is not None:
            result = None
            for piece in self.llm.stream(standalone, hits, self, wanted):
                if isinstance(piece, Answer):
                    result = piece
                else:
                    yield TextPiece(piece)
        else:
            result = self.extractive(standalone, hits, wanted)
        result.notices = notices + result.notices
        result.standalone = standalone
        result.seconds = time.perf_counter() - started
        if self.llm is None or result.refused:
            for line in result.answer.splitlines(keepends=True):  # line by line, as a generator would
                yield TextPiece(line)
        yield Final(result)

    def _clean_question(self, question: str) -> tuple[str, list[str]]:
        question = " ".join((question or "").split())
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return question[:limit], [TOO_LONG_NOTICE.format(n=limit)]
        return question, []

    # ------------------------------------------------------------ relevance and refusal

    def coverage(self, question: str, hits: list[Hit]) -> float:
        """Share of the question's idf weight whose lemmas occur in the best passages."""
        wanted = {l for l in self.terms(question) if not l.isdigit()}
        if not wanted or not hits:
            return 0.0
        present = set().union(*(self.retriever.lexical.expand(h.record.lemmas) for h in hits[:3]))  # lemmatised at ingest
        total = sum(self.idf(l) for l in wanted)
        return sum(self.idf(l) for l in wanted if l in present) / total

    def is_relevant(self, question: str, hits: list[Hit]) -> bool:
        """Enough of the question is in the passages (thresholds calibrated on eval/dev.jsonl, see BENCHMARKS.md).

        With the dense index ready, the best passage must also be close to the question in embedding space:
        off-topic questions share a word or two with the material but never its meaning.
        """
        if not hits:
            return False
        coverage = self.coverage(question, hits)
        similarities = [h.dense for h in hits if h.dense is not None]
        if similarities:
            return max(similarities) >= self.settings.min_similarity and coverage >= MIN_COVERAGE_WITH_DENSE
        return coverage >= self.settings.min_relevance

    def refusal(self, question: str) -> Answer:
        suggestions = related_suggestions(question)
        text = REFUSAL
        if suggestions:
            text += "\n\nVoit kysyä esimerkiksi:\n" + "\n".join(f"- {s}" for s in suggestions)
        return Answer(text, refused=True, suggestions=suggestions)

    # ------------------------------------------------------------ extractive answer

    def _answerable_sentences(self, hits: list[Hit], municipality: str | None) -> list[tuple[int, int, str, frozenset[str], frozenset[str]]]:
        """(passage index, position, sentence, lemmas, lemmas with compound parts) of the quotable sentences."""
        out = []
        for hit_index, hit in enumerate(hits[:ANSWER_PASSAGES]):
            if municipality and hit.record.municipality not in (None, municipality):
                continue
            for position, sentence in enumerate(split_sentences(hit.record.text)):
                plain = frozenset(lemmas(sentence))
                if len(sentence.split()) >= MIN_SENTENCE_WORDS and len(plain & META_LEMMAS) < 2:
                    out.append((hit_index, position, sentence, plain, frozenset(self.terms(sentence))))
        return out

    def extractive(self, question: str, hits: list[Hit], municipality: str | None) -> Answer:
        chosen = self.best_sentences(question, hits, municipality)
        if not chosen:
            return self.refusal(question)
        citations: dict[int, Citation] = {}
        lines = []
        for candidate in chosen:
            hit = hits[candidate.hit_index]
            citation = citations.get(candidate.hit_index)
            if citation is None:
                citation = citation_for(len(citations) + 1, hit, candidate.sentence)
                citations[candidate.hit_index] = citation
            citation.highlights.append(candidate.sentence)
            # A sentence from a municipality's summary often leaves the place unsaid: name it.
            place = hit.record.municipality
            prefix = f"{place}: " if place and place != municipality else ""
            lines.append(f"- {prefix}{candidate.sentence} [{citation.n}]")
        notices = []
        lead = LEAD_IN
        if municipality:
            local = any(hits[c.hit_index].record.municipality == municipality for c in chosen)
            if local:
                lead = f"Aineiston mukaan ({municipality}):"
            else:
                notices.append(f"Aineistossa ei ollut tähän kuntakohtaista tietoa kunnasta {municipality}; vastaus perustuu alueelliseen aineistoon.")
                lead = f"Kuntakohtaista tietoa ({municipality}) ei löytynyt, joten vastaus perustuu alueelliseen aineistoon:"
        text = lead + "\n\n" + "\n".join(lines)
        return Answer(text, refused=False, citations=sorted(citations.values(), key=lambda c: c.n), notices=notices)

    def best_sentences(self, question: str, hits: list[Hit], municipality: str | None = None) -> list[_Candidate]:
        """Top sentences by weighted lemma overlap and passage rank; near-duplicates dropped.

        A question word weighs by its rarity in the material (idf) and among the retrieved sentences: words
        every passage shares name the topic ("Pohjoisen Keski-Suomen ilmastosuunnitelma"), the rare ones
        name what is asked ("budjetti"). For a question about one municipality, other municipalities'
        summaries are never quoted: their facts would read as facts about the one asked about.
        """
        wanted = {l for l in lemmas(question) if not find_municipality(l)}  # the place is retrieval's job
        if not wanted:
            return []
        # Compound parts ("päästö" of "päästölähde", "budjetti" in "kokonaisbudjetti") count at part weight.
        parts = self.terms(" ".join(wanted)) - wanted
        wants_number = bool(wanted & QUANTITY_WORDS) or bool(QUANTITY_WORDS & set(question.lower().split()))
        sentences = self._answerable_sentences(hits, municipality)
        local_df = Counter(l for *_, terms in sentences for l in terms & (wanted | parts))

        def weight(lemma: str) -> float:
            return self.idf(lemma) * math.log(1 + len(sentences) / (1 + local_df[lemma]))

        top_score = hits[0].score if hits else 1.0
        candidates: list[_Candidate] = []
        for hit_index, position, sentence, plain, terms in sentences:
            full = wanted & plain
            # a part of a question compound written out as its own word ("päästötavoite" ~ "tavoite")
            written_out = (parts & plain) - full
            partial = ((wanted | parts) & terms) - full - written_out
            overlap = (sum(weight(l) for l in full) + WRITTEN_OUT_WEIGHT * sum(weight(l) for l in written_out)
                       + PART_WEIGHT * sum(weight(l) for l in partial))
            if overlap <= 0:
                continue
            passage_weight = 0.5 + 0.5 * hits[hit_index].score / top_score
            score = overlap * passage_weight / math.sqrt(max(8, len(plain)) / 8)
            if wants_number and any(ch.isdigit() for ch in sentence):
                score *= NUMBER_BONUS
            candidates.append(_Candidate(sentence, hit_index, position, score, plain))
        candidates.sort(key=lambda c: c.score, reverse=True)
        chosen: list[_Candidate] = []
        for candidate in candidates:
            if len(chosen) == MAX_SENTENCES or candidate.score < MIN_SHARE_OF_BEST * candidates[0].score:
                break
            if any(_jaccard(candidate.lemmas, c.lemmas) > 0.6 for c in chosen):
                continue
            chosen.append(candidate)
        return sorted(chosen, key=lambda c: (c.hit_index, c.position))


def final_answer(events: Iterator[AnswerEvent]) -> Answer:
    """The Answer of a stream, its text pieces dropped (for callers that want the whole answer at once)."""
    for event in events:
        if isinstance(event, Final):
            return event.answer
    raise RuntimeError("answer stream ended without a final answer")


def citation_for(n: int, hit: Hit, quote: str) -> Citation:
    r = hit.record
    return Citation(n=n, doc_id=r.doc_id, title=r.title, page=r.page, municipality=r.municipality,
                    source_url=r.source_url, quote=quote, date=r.date, chunk_id=r.id, chunk_text=r.text,
                    relevance=round(hit.score, 5))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))
