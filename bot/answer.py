"""From a question to a cited Finnish answer: the pipeline, wired in one place.

    question → analysis (bot/question.py) → retrieval (bot/retrieval.py) → sentence evidence (bot/evidence.py)
             → answerability (bot/answerability.py): answer | answer in part | refuse
             → composition (bot/compose.py), or the optional LLM (bot/llm.py) under the same checks

The default answer is extractive and needs no LLM: sentences of the retrieved passages, verbatim (numbers, units
and dates exactly as in the source), each with its citation marker. Refusal is an explicit route with its own
Finnish message: off-topic questions, questions for personal data, and on-topic questions the material does not
answer, which get a plain statement of what is missing instead of nearby sentences.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from bot.answer_types import Answer, AnswerEvent, Citation, Final, TextPiece, citation_for, final_answer
from bot.answerability import Decision, Thresholds, decide
from bot.compose import Composed, compose, missing_text
from bot.conversation import standalone_question
from bot.embeddings import CachedEmbeddings, get_embeddings
from bot.evidence import EvidenceScorer, Sentence, TermWeights, cosine_similarities, quotable_sentences
from bot.llm import LLMAnswerer
from bot.municipalities import normalize_municipality
from bot.question import QuestionAnalysis, analyze
from bot.retrieval import Hit, Retriever
from bot.reviewed import SupersededDocuments
from bot.settings import Settings
from bot.suggestions import related_suggestions

REFUSAL = (
    "Valitettavasti käytössäni oleva aineisto ei kata tätä kysymystä, joten en voi vastata siihen luotettavasti. "
    "Vastaan vain Keski-Suomen kuntien ilmastotyön aineiston perusteella."
)
NOT_COVERED = (
    "Aineisto ei kata tätä kysymystä: en löytänyt siitä kohtaa, joka vastaisi siihen, enkä arvaa. "
    "Tarkista asia kunnan tai Keski-Suomen liiton ilmastotyön yhteyshenkilöltä."
)
PERSONAL_DATA = (
    "En anna henkilöiden yhteystietoja tai muita henkilötietoja, eikä aineistossa ole niitä. Kunnan "
    "työntekijöiden ja luottamushenkilöiden yhteystiedot löytyvät kunnan virallisilta verkkosivuilta, ja "
    "kirjaamo välittää viestit oikealle henkilölle."
)
EMPTY_HINT = "Kirjoita kysymys kuntien ilmastotyöstä, esimerkiksi: Mitä ilmastolaki vaatii kunnalta?"
TOO_LONG_NOTICE = "Kysymys oli pitkä, joten käytin siitä vain {n} ensimmäistä merkkiä."
REGIONAL_NOTICE = ("Aineistossa ei ollut tähän kuntakohtaista tietoa kunnasta {place}; vastaus perustuu "
                   "alueelliseen aineistoon.")
SUGGESTIONS_LEAD = "Voit kysyä esimerkiksi:"
STALE_NOTICE = ("Lähteen [{n}] tiedot on tarkistettu viimeksi {checked}; ne voivat olla vanhentuneita, joten "
                "tarkista ajantasainen tilanne.")


@dataclass(frozen=True)
class Case:
    """A question gathered for decision: computed once, then decided and composed (once, or many times while
    fitting weights and thresholds)."""

    analysis: QuestionAnalysis
    asked: str | None  # the municipality the question is about
    hits: list[Hit]
    sentences: list[Sentence]
    similarities: dict[str, float]
    coverage: float


class Answerer:
    """Holds the retriever (and optional LLM) of one data directory; thread-safe for reading."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None, llm: LLMAnswerer | None = None,
                 embeddings: CachedEmbeddings | None = None, superseded: SupersededDocuments | None = None):
        self.settings = settings
        self.superseded = superseded or SupersededDocuments(settings)
        self.retriever = retriever or Retriever(settings)
        self.embeddings = embeddings or get_embeddings(settings)
        self.thresholds = Thresholds(min_similarity=settings.min_similarity, min_relevance=settings.min_relevance)
        self.llm = llm if llm is not None or settings.llm_provider == "none" else LLMAnswerer(settings)
        self._index_terms()

    def _index_terms(self) -> None:
        self.scorer = EvidenceScorer(TermWeights([r.lemmas for r in self.retriever.records]),
                                     self.retriever.lexical.expand)

    def reload(self) -> None:
        """Pick up a finished (background) ingest."""
        self.retriever.reload()
        self._index_terms()

    # ------------------------------------------------------------ entry points

    def answer(self, question: str, municipality: str | None = None,
               history: list[tuple[str, str]] | None = None) -> Answer:
        """The whole answer at once (CLI, API)."""
        return final_answer(self.stream(question, municipality, history))

    def stream(self, question: str, municipality: str | None = None,
               history: list[tuple[str, str]] | None = None) -> Iterator[AnswerEvent]:
        """Answer text pieces as they are ready, then the Final answer (for streaming UIs)."""
        started = time.perf_counter()
        question, notices = self._clean_question(question)
        if not question:
            yield Final(Answer(EMPTY_HINT, refused=True, notices=notices, seconds=time.perf_counter() - started))
            return
        case = self.gather(question, municipality, history)
        decision = self.decide(case)
        if decision.route != "refuse" and self.llm is not None:
            result = None
            for event in self.llm.stream(case.analysis.text, case.hits, lambda: self.respond(case, decision)):
                if isinstance(event, Final):
                    result = event.answer
                else:
                    yield event
        else:
            result = self.respond(case, decision)
        result.notices = notices + result.notices
        result.standalone = case.analysis.text
        result.best_score = max((h.dense for h in case.hits if h.dense is not None), default=None)
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

    # ------------------------------------------------------------ the pipeline's steps

    def gather(self, question: str, municipality: str | None = None,
               history: list[tuple[str, str]] | None = None) -> Case:
        """Everything the decision rests on: the analysis, the passages, their sentences and how close each is."""
        analysis = analyze(standalone_question(question, history, self.settings.max_question_chars))
        # A municipality the question names wins over the chat's or the widget's setting, which is the default.
        asked = analysis.municipalities[0] if analysis.municipalities else normalize_municipality(municipality)
        hits, vector = self._retrieve(analysis, asked)
        outdated = self.superseded.superseded_doc_ids()
        hits = [h for h in hits if h.record.doc_id not in outdated]  # marked superseded: never cited as current
        comparing = len(analysis.municipalities) > 1
        sentences = quotable_sentences(hits, None if comparing else asked, self.retriever.lexical.expand)
        similarities = cosine_similarities(vector, self.embeddings.cached([s.text for s in sentences]))
        return Case(analysis, asked, hits, sentences, similarities, self.coverage(analysis.text, hits))

    def decide(self, case: Case, scorer: EvidenceScorer | None = None, thresholds: Thresholds | None = None) -> Decision:
        """Answer, answer in part or refuse (other weights and thresholds are for fitting them on `tune`)."""
        evidence = (scorer or self.scorer).score(case.analysis, case.sentences, case.hits, case.similarities)
        unheard_of = frozenset(t for t in case.analysis.names if self.scorer.term_weights.unheard_of(t))
        return decide(case.analysis, case.coverage, case.hits, evidence, unheard_of, case.asked,
                      thresholds or self.thresholds)

    def respond(self, case: Case, decision: Decision) -> Answer:
        """The extractive answer or the refusal the decision calls for."""
        if decision.route == "refuse":
            return self.refusal(case.analysis, decision)
        composed = compose(case.analysis, decision, case.hits, case.sentences, case.similarities, case.asked)
        notices = []
        if case.asked and len(case.analysis.municipalities) < 2 and not any(
                h.record.municipality == case.asked for h, _ in composed.quoted):
            notices.append(REGIONAL_NOTICE.format(place=case.asked))
        citations = citations_of(composed)
        notices.extend(STALE_NOTICE.format(n=c.n, checked=c.checked) for c in citations
                       if is_stale(c.checked, self.settings.stale_after_days))
        return Answer(composed.text, refused=False, citations=citations, notices=notices,
                      partial=decision.route == "partial")

    # ------------------------------------------------------------ retrieval

    def _retrieve(self, analysis: QuestionAnalysis, asked: str | None) -> tuple[list[Hit], list[float] | None]:
        """The passages for the question, and its query vector (None while the dense index is not ready).

        A comparison of municipalities retrieves for each of them, so that each gets its own passages.
        """
        vector = self.retriever.query_vector(analysis.text)
        if len(analysis.municipalities) < 2:
            return self.retriever.search(analysis.text, municipality=asked, vector=vector), vector
        merged: dict[str, Hit] = {}
        for place in analysis.municipalities:
            for hit in self.retriever.search(analysis.text, municipality=place, vector=vector):
                if hit.record.id not in merged or merged[hit.record.id].score < hit.score:
                    merged[hit.record.id] = hit
        return sorted(merged.values(), key=lambda h: h.score, reverse=True), vector

    def coverage(self, question: str, hits: list[Hit]) -> float:
        """Share of the question's idf weight whose lemmas occur in the best passages."""
        terms = self.retriever.lexical.query_tokens(question)
        wanted = {l for l in terms if not l.isdigit()}
        if not wanted or not hits:
            return 0.0
        present = set().union(*(self.retriever.lexical.expand(h.record.lemmas) for h in hits[:3]))
        idf = self.scorer.term_weights.idf
        total = sum(idf(l) for l in wanted)
        return sum(idf(l) for l in wanted if l in present) / total

    # ------------------------------------------------------------ routes

    def refusal(self, analysis: QuestionAnalysis, decision: Decision) -> Answer:
        """A refusal that says why: off-topic, personal data, or what the material lacks."""
        if decision.reason == "personal_data":
            return Answer(PERSONAL_DATA, refused=True)
        if decision.reason == "off_topic":
            text = REFUSAL
        else:
            missing = [missing_text(v) for v in decision.parts if v.unheard_of or v.part.years]  # missing years ⊆ these
            text = " ".join([*missing, NOT_COVERED])
        suggestions = related_suggestions(analysis.text)
        if suggestions:
            text += f"\n\n{SUGGESTIONS_LEAD}\n" + "\n".join(f"- {s}" for s in suggestions)
        return Answer(text, refused=True, suggestions=suggestions)


def is_stale(checked: str | None, after_days: int, today: date | None = None) -> bool:
    """True when a document's facts were last checked longer ago than the setting allows (unknown is not stale:
    the sources panel shows no date then)."""
    try:
        when = date.fromisoformat(checked) if checked else None
    except ValueError:
        return False
    return when is not None and ((today or date.today()) - when).days > after_days


def citations_of(composed: Composed) -> list[Citation]:
    """One citation per quoted passage, in marker order, quoting its first sentence used."""
    citations = []
    for n, (hit, quotes) in enumerate(composed.quoted, 1):
        citation = citation_for(n, hit, quotes[0])
        citation.highlights.extend(quotes)
        citations.append(citation)
    return citations
