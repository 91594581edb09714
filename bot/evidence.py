"""Evidence at sentence level: which sentences of the retrieved passages answer which part of the question.

Each quotable sentence is scored on three signals, each measured in BENCHMARKS.md for what it adds:
- lexical: the idf-weighted share of the part's lemmas the sentence holds (compound parts at lower weight);
- semantic: cosine similarity of the sentence's embedding (computed at ingest, served from the cache) to the
  question's, so a sentence that says the same thing in other words still counts;
- fit to what is asked: an amount wants a number (a count, a number of what it counts), a time a date or
  year, a named year that very year.
The passage's own rank counts a little, and another municipality's summary is never evidence for a question
about one municipality.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from difflib import get_close_matches
from functools import lru_cache
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.finnish import is_word, lemmas, split_sentences
from bot.municipalities import find_municipalities
from bot.question import QuestionAnalysis, QuestionPart, years_in
from bot.retrieval import Hit

MIN_SENTENCE_WORDS = 5
ANSWER_PASSAGES = 8  # sentences are taken from this many of the best passages
PART_WEIGHT = 0.25
DERIVED_WEIGHT = 0.5  # the same stem in another form the lemmatiser left apart ("täyttänyt" ~ "täyttäneiden")
WRITTEN_OUT_WEIGHT = 0.75
DERIVED_PREFIX = 5
UNHEARD_MIN_LETTERS = 5
RESOLVED_WORDS = 20_000  # question words kept resolved per scorer
RESOLVE_CUTOFF = 0.85  # difflib ratio of a typo to the word it means ("suunitelma" ~ "suunnitelma" 0.95)
# Lemmas of the notice every document opens with ("this is a summary compiled from public sources …"): a
# sentence with several of them is about the document, not an answer.
META_LEMMAS = frozenset({"tiivistelmä", "kooste", "koota", "lähde", "julkinen", "virallinen", "asiakirja", "luetella",
                         "ilmastobotti", "aineisto", "julkaisu"})
_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.(19|20)\d{2}\b|\b(19|20)\d{2}\b")
# What is not a quantity although it is written in digits: dates, years (and year ranges), ordinals, CO2.
_NOT_QUANTITY = re.compile(r"\b\d{1,2}\.\d{1,2}\.(?:(?:19|20)\d{2})?|"
                           r"(?<!\d[  ])\b(?:19|20)\d{2}\b(?![  ]\d{3}\b|[,.]\d|\s*(?:%|€|euro|prosent|tonn|[MGk]Wh))|"
                           r"\b\d{1,2}\.(?=\s)|CO2|§\s*\d+", re.I)
_DIGIT = re.compile(r"\d")
_UNITS = (("money", re.compile(r"\d\s*(?:€|(?:milj\w*|miljard\w*|tuhat\w*)?\s*euro)", re.I)),
          ("share", re.compile(r"\d\s*(?:%|prosent)", re.I)),
          ("energy", re.compile(r"\d\s*(?:[kMGT]Wh\b|\w*wattitun)")))
# The summaries say where their sources are silent; such a sentence answers only whether something exists.
_ASIDE = re.compile(r"\([^)]*\)")  # "(raporttia tapaamisesta ei löytynyt)" is a remark beside the claim
_GAP = re.compile(r"\bei (?:löytynyt|löydy|mainita|ole saatavilla|ollut saatavilla)\b", re.I)
# "yksi" is left out: simplemma reads "yhdessä" (together) as it.
NUMBER_WORDS = frozenset("""kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän kymmenen kymmenkunta
    sata satoja tuhat tuhansia miljoona miljardi puoli puolet puolitoista kolmannes neljännes kaksinkertainen
    kolminkertainen""".split())
_PROPER = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-ZÅÄÖ][a-zåäö]+")


@dataclass(frozen=True)
class Sentence:
    """A quotable sentence of a retrieved passage, with what the scoring needs to know of it."""

    text: str
    hit_index: int
    position: int
    lemmas: frozenset[str]
    terms: frozenset[str]  # lemmas with the known parts of compounds
    years: frozenset[str]
    has_amount: bool
    has_date: bool
    has_name: bool
    places: frozenset[str]  # the municipalities it is about: those it names, or else its document's
    states_gap: bool = False  # says the sources lack something ("…päästölukuja ei löytynyt lähteistä")
    units: frozenset[str] = frozenset()  # the units its amounts are in: money, share, energy
    surroundings: frozenset[str] = frozenset()  # terms of its headings and of the sentence before it


@dataclass(frozen=True)
class Evidence:
    """One sentence's support for one part of the question."""

    sentence: Sentence
    part: int
    score: float
    lexical: float  # share of the part's term weight the sentence holds (0..1)
    semantic: float  # cosine similarity to the question (0 when unknown)
    fit: float  # 1 when the sentence has what the kind of question asks for, less when not
    score_any_year: float = 0.0  # the score were the sentence of the year the question names
    holds: frozenset[str] = frozenset()  # the part's own lemmas it holds (more than as a part of a compound)


@dataclass(frozen=True)
class Weights:
    """How the signals combine; fitted on the tune split (scripts/tune_answers.py), see BENCHMARKS.md."""

    semantic: float = 0.6  # share of the semantic signal in a sentence's score (the rest is lexical)
    semantic_floor: float = 0.8  # cosine at or below which a sentence is semantically unrelated
    semantic_span: float = 0.12  # cosine above the floor that counts as fully related
    missing_fit: float = 0.0  # score factor for a sentence without what the kind asks for
    missing_name: float = 0.7  # … for a "who" question, a sentence naming no one (a role may still answer)
    wrong_year: float = 0.1  # score factor for a sentence without the year the question names
    passage_rank: float = 0.5  # how much the passage's retrieval score moves a sentence's
    context: float = 0.1  # share of a part's lexical score that comes from the rest of the question
    surroundings: float = 0.25  # how fully a question word counts when only the sentence's headings or the
    # sentence before it hold it ("Hankkeen asukaskyselyyn tuli 454 vastausta" after the project's name)


class TermWeights:
    """idf of lemmas over the chunks of the store: rare words name what is asked, common ones the topic."""

    def __init__(self, chunk_lemmas: Sequence[Sequence[str]]):
        self._df = Counter(lemma for chunk in chunk_lemmas for lemma in set(chunk))
        self._n = max(1, len(chunk_lemmas))
        self._vocabulary: list[str] | None = None

    def idf(self, lemma: str) -> float:
        return math.log(1 + self._n / (1 + self._df.get(lemma, 0)))

    def known(self, lemma: str) -> bool:
        return lemma in self._df

    def resolve(self, term: str) -> str:
        """The store's own lemma for a question lemma it never uses: a typo ("ilmastosuunitelma") or the
        lemmatiser's miss on an inflected form ("päästöjään" → "päästöjää") becomes the closest word of the
        material, or its longest known beginning ("päästö"). Short words, the material's own and words the
        lemmatiser knows ("asettanut" is no typo of "asentanut") stay as they are."""
        if len(term) < UNHEARD_MIN_LETTERS or not term.isalpha() or self.known(term) or is_word(term):
            return term
        # a typo changes a letter or two, not the length ("voittaa" is no typo of "varoittaa")
        close = [w for w in get_close_matches(term, self.vocabulary(), n=3, cutoff=RESOLVE_CUTOFF)
                 if abs(len(w) - len(term)) <= 1]
        if close:
            return close[0]
        beginnings = (term[:n] for n in range(len(term) - 1, UNHEARD_MIN_LETTERS - 1, -1))
        return next((b for b in beginnings if self.known(b)), term)

    def vocabulary(self) -> list[str]:
        if self._vocabulary is None:
            self._vocabulary = sorted(w for w in self._df if w.isalpha())
        return self._vocabulary

    def unheard_of(self, term: str) -> bool:
        """A word the material never uses, nor anything it could be a typo of: a name such as a grant or a
        programme that the material does not know ("Hiilikukkaro-tuki"). For a hyphenated compound its first
        part decides ("LUMOAVA-hanke" is known by "lumoava")."""
        head = term.split("-")[0] if "-" in term else term
        if len(head) < UNHEARD_MIN_LETTERS or not head.isalpha() or self.known(head) or self.known(term):
            return False
        vocabulary = self.vocabulary()
        return not any(w.startswith(head) for w in vocabulary) \
            and not get_close_matches(head, vocabulary, n=1, cutoff=0.8)


def sentence_texts(text: str) -> list[str]:
    """The sentences of a passage long enough to be quoted as evidence (ingest embeds these)."""
    return [s for s in split_sentences(text) if len(s.split()) >= MIN_SENTENCE_WORDS]


@lru_cache(maxsize=50_000)
def sentence_lemmas(text: str) -> frozenset[str]:
    """A sentence's lemmas, computed once per process (the same passages are retrieved again and again)."""
    return frozenset(lemmas(text))


def quotable_sentences(hits: Sequence[Hit], municipality: str | None, expand) -> list[Sentence]:
    """The sentences of the best passages that may be quoted: long enough, not the documents' notice, and
    for a question about one municipality never from another municipality's summary."""
    out: list[Sentence] = []
    seen: set[str] = set()
    for hit_index, hit in enumerate(hits[:ANSWER_PASSAGES]):
        if municipality and hit.record.municipality not in (None, municipality):
            continue
        headings = frozenset(expand(lemmas(hit.record.headings)))
        texts = sentence_texts(hit.record.text)
        terms = [sentence_terms(sentence_lemmas(text), expand) for text in texts]  # each also the next one's context
        for position, text in enumerate(texts):
            plain = sentence_lemmas(text)
            if len(plain & META_LEMMAS) >= 2 or text in seen:
                continue
            seen.add(text)  # chunks overlap: the same sentence is evidence once, from its best passage
            before = terms[position - 1] if position else frozenset()
            out.append(Sentence(
                text=text, hit_index=hit_index, position=position, lemmas=plain, terms=terms[position],
                years=years_in(text), has_amount=has_quantity(text, plain), has_date=bool(_DATE.search(text)),
                has_name=bool(_PROPER.search(text)),
                places=sentence_places(text, hit.record.municipality),
                states_gap=bool(_GAP.search(_ASIDE.sub(" ", text))),
                units=frozenset(unit for unit, pattern in _UNITS if pattern.search(text)),
                surroundings=headings | before,
            ))
    return out


def sentence_terms(plain: frozenset[str], expand) -> frozenset[str]:
    """A sentence's lemmas with the known parts of its compounds, the parts of hyphenated ones ("ilmasto-ohjelma",
    "ORSI-hanke") included."""
    hyphen_parts = [part for lemma in plain if "-" in lemma for part in lemma.split("-") if len(part) > 1]
    return frozenset(expand([*plain, *hyphen_parts]))


def has_quantity(text: str, sentence_lemmas: frozenset[str]) -> bool:
    """The sentence states an amount: a number that is not a date, a year or an ordinal ("1 088 asukasta",
    "70 %", "454 vastausta"), or a number written out ("neljä Leader-ryhmää")."""
    return bool(_DIGIT.search(_NOT_QUANTITY.sub(" ", text))) or bool(sentence_lemmas & NUMBER_WORDS)


def sentence_places(text: str, document_place: str | None) -> frozenset[str]:
    """The municipalities a sentence is about: those it names, or else its document's. "Vertailuksi:
    naapurikunnat Uurainen ja Petäjävesi hyväksyivät…" in Keuruu's summary is about Uurainen and Petäjävesi."""
    named = find_municipalities(text)
    return frozenset(named) if named else frozenset({document_place} - {None})


def fit_to_kind(part: QuestionPart, sentence: Sentence, weights: Weights) -> float:
    """1 when the sentence has what this kind of question asks for; less when it lacks it."""
    fit = 1.0
    if part.kind == "amount" and (not sentence.has_amount or part.unit and part.unit not in sentence.units):
        fit *= weights.missing_fit
    elif part.kind == "time" and not sentence.has_date:
        fit *= weights.missing_fit
    elif part.kind == "who" and not sentence.has_name:
        fit *= weights.missing_name
    return fit


def year_factor(part: QuestionPart, sentence: Sentence, weights: Weights) -> float:
    """A sentence of another year than the one the question names is weak evidence."""
    return weights.wrong_year if part.years and not part.years & sentence.years else 1.0


class EvidenceScorer:
    """Scores the quotable sentences against each part of an analysed question."""

    def __init__(self, term_weights: TermWeights, expand, weights: Weights = Weights()):
        self.term_weights = term_weights
        self.expand = expand
        self.weights = weights
        # Bounded: every new word a user types would otherwise stay in memory for the life of the process.
        self.resolve = lru_cache(maxsize=RESOLVED_WORDS)(self._resolve)

    def score(self, analysis: QuestionAnalysis, sentences: Sequence[Sentence], hits: Sequence[Hit],
              similarities: Mapping[str, float]) -> list[list[Evidence]]:
        """For every part, its evidence, best first (sentences sharing no term and no meaning are left out)."""
        if not sentences:
            return [[] for _ in analysis.parts]
        top = hits[0].score if hits else 1.0
        out = []
        for index, part in enumerate(analysis.parts):
            own, context = (frozenset(map(self.resolve, terms)) for terms in part_terms(analysis, index))
            weight = self._term_weight(own | context, sentences)
            counted = self.resolve(part.counted) if part.counted else None
            evidence = []
            for sentence in sentences:
                lexical, holds = self.lexical(own, context, sentence, weight)
                semantic = similarities.get(sentence.text)
                if lexical <= 0 and (semantic is None or semantic <= self.weights.semantic_floor):
                    continue
                fit = fit_to_kind(part, sentence, self.weights)
                if counted and not self.match(counted, sentence):
                    fit *= self.weights.missing_fit  # a number, but of something else than what is counted
                passage = 1 - self.weights.passage_rank + self.weights.passage_rank * hits[sentence.hit_index].score / top
                any_year = self.blend(lexical, semantic) * fit * passage
                evidence.append(Evidence(sentence, index, any_year * year_factor(part, sentence, self.weights),
                                         lexical, semantic or 0.0, fit, any_year, holds))
            evidence.sort(key=lambda e: e.score, reverse=True)
            out.append(evidence)
        return out

    def _resolve(self, term: str) -> str:
        """A question lemma as the material spells it (see TermWeights.resolve); compounds whose parts the
        material knows stay whole, their parts match on their own. Called through ``self.resolve``, cached."""
        return term if self.parts(term) else self.term_weights.resolve(term)

    def blend(self, lexical: float, semantic: float | None) -> float:
        """Lexical and semantic support in one number; lexical alone where the sentence has no vector yet."""
        if semantic is None:
            return lexical
        related = min(1.0, max(0.0, semantic - self.weights.semantic_floor) / self.weights.semantic_span)
        return (1 - self.weights.semantic) * lexical + self.weights.semantic * related

    def _term_weight(self, terms: frozenset[str], sentences: Sequence[Sentence]):
        """Weight of a question lemma: its rarity in the store times its rarity among these sentences (words every
        retrieved sentence shares name the topic, not what is asked)."""
        parts = frozenset(self.expand(list(terms))) - terms
        local_df = Counter(l for s in sentences for l in s.terms & (terms | parts))
        n = len(sentences)

        def weight(lemma: str) -> float:
            return self.term_weights.idf(lemma) * math.log(1 + n / (1 + local_df[lemma]))

        return weight

    def lexical(self, own: frozenset[str], context: frozenset[str], sentence: Sentence,
                weight) -> tuple[float, frozenset[str]]:
        """Share of the terms' weight that the sentence holds: the part's own terms, then (at the context weight)
        the rest of the question's, each normalised on its own so that context never outweighs what is asked;
        and which of its own terms it holds (more than as a part of a compound)."""
        share, holds = self._held(own, sentence, weight)
        if not context:
            return share, holds
        context_share, _ = self._held(context, sentence, weight)
        return (1 - self.weights.context) * share + self.weights.context * context_share, holds

    def _held(self, terms: frozenset[str], sentence: Sentence, weight) -> tuple[float, frozenset[str]]:
        total = held = 0.0
        holds = []
        for term in terms:
            w = weight(term)
            matched = self.match(term, sentence)
            if matched > PART_WEIGHT:
                holds.append(term)  # held by the sentence itself, not by its surroundings
            elif term in sentence.surroundings:
                matched = max(matched, self.weights.surroundings)
            total += w
            held += w * matched
        return (held / total if total else 0.0), frozenset(holds)

    def match(self, term: str, sentence: Sentence) -> float:
        """How fully the sentence holds one question lemma: itself 1; its compound parts written out as words up
        to WRITTEN_OUT_WEIGHT; another form of the same stem DERIVED_WEIGHT; a part inside another compound, or a
        derivation of a part, PART_WEIGHT."""
        if term in sentence.lemmas or "-" in term and term.replace("-", "") in sentence.lemmas:
            return 1.0  # "pinta-ala" is also written "pintaala"
        parts = self.parts(term)
        if not parts:
            if term in sentence.terms or _heads(term, sentence.lemmas):
                return PART_WEIGHT
            return DERIVED_WEIGHT if _derived(term, sentence.lemmas) else 0.0
        leaves = [p for p in parts if not self.parts(p) & parts] or list(parts)
        written = sum(1.0 if p in sentence.lemmas else WRITTEN_OUT_WEIGHT if p in sentence.terms
                      else 0.5 if _derived(p, sentence.lemmas) else 0.0 for p in leaves)
        if written:
            return WRITTEN_OUT_WEIGHT * written / len(leaves)
        if _extended(term, sentence.lemmas):
            return DERIVED_WEIGHT
        return PART_WEIGHT if parts & sentence.terms else 0.0

    def parts(self, term: str) -> frozenset[str]:
        """The known parts of a compound lemma, hyphenated ones and parts of parts included."""
        found: set[str] = set()
        todo = [p for p in term.split("-") if len(p) > 1] if "-" in term else [term]
        if len(todo) > 1:
            found.update(todo)
        while todo:
            for part in set(self.expand([todo.pop()])[1:]) - found:
                found.add(part)
                todo.append(part)
        return frozenset(found - {term})


def _derived(word: str, lemmas_of_sentence: frozenset[str]) -> bool:
    """A Finnish derivation of the same stem ("vähennys" ~ "vähentää"): a shared start of DERIVED_PREFIX letters."""
    if len(word) < DERIVED_PREFIX + 1:
        return False
    stem = word[:DERIVED_PREFIX]
    return any(len(l) > DERIVED_PREFIX and l.startswith(stem) for l in lemmas_of_sentence)


def _heads(word: str, lemmas_of_sentence: frozenset[str]) -> bool:
    """The word ends a compound of the sentence that the splitter's vocabulary did not cut ("järjestelmä" in
    "aurinkosähköjärjestelmä")."""
    return len(word) >= DERIVED_PREFIX + 1 and any(len(l) > len(word) + 2 and l.endswith(word)
                                                   for l in lemmas_of_sentence)


def _extended(compound: str, lemmas_of_sentence: frozenset[str]) -> bool:
    """The whole compound begins a longer word of the sentence, give or take its last letters, which inflection
    changes ("tuulivoima" ~ "tuulivoimala", "energiankulutus" ~ "energiankulutukseensa")."""
    stem = compound[:max(DERIVED_PREFIX + 1, len(compound) - 2)]
    return any(len(l) > len(stem) and l.startswith(stem) and l != compound for l in lemmas_of_sentence)


def part_terms(analysis: QuestionAnalysis, index: int) -> tuple[frozenset[str], frozenset[str]]:
    """The lemmas a part's evidence should hold: its own, and as context the rest of the question's (a second
    part often leaves its subject to the first: "…ja kuka sen hyväksyi")."""
    own = analysis.parts[index].terms or analysis.terms
    return own, analysis.terms - own


def cosine_similarities(query_vector: Sequence[float] | None, vectors: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Cosine similarity of each text's vector to the query's (the vectors are normalised by the models)."""
    if query_vector is None or not vectors:
        return {}
    texts = list(vectors)
    matrix = np.asarray([vectors[t] for t in texts], dtype=np.float32)
    query = np.asarray(query_vector, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
    scores = matrix @ query / np.where(norms == 0, 1.0, norms)
    return dict(zip(texts, scores.tolist()))
