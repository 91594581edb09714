"""Composition: the chosen evidence written out as an answer that reads as one.

The direct answer comes first, in one or two sentences (with the sentence after it when that goes on about the
question); then at most three supporting points, none weaker than a share of the best; a comparison gets one
line per municipality, side by side. Sentences are quoted verbatim (so
numbers keep the year and scope the source gives them) and each carries the marker of its passage. What the
material does not cover is said in plain Finnish, never papered over with nearby sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.answerability import Decision, PartVerdict
from bot.evidence import Evidence, Sentence
from bot.question import QuestionAnalysis
from bot.retrieval import Hit

MAX_DIRECT = 2
MAX_SUPPORT = 3
MAX_WORDS = 170
SUPPORT_SHARE = 0.6  # a supporting point scores at least this share of the best evidence
NEXT_SENTENCE_SIMILARITY = 0.82  # the next sentence goes on the answer when this close to the question (fitted
# on tune; 0.80–0.82 give the same figures) or when it holds a word of the question
SECOND_DIRECT_SHARE = 0.85  # a second direct sentence scores at least this share of the first
NEAR_DUPLICATE = 0.6  # lemma overlap (Jaccard) above which a sentence repeats a chosen one
SUPPORT_HEADING = "Lisäksi aineistossa:"
REGIONAL_LABEL = "Koko maakunta"
MISSING_PART = "Aineistosta ei löydy vastausta tähän: ”{part}”."
MISSING_YEAR = "Aineistossa ei ole tätä tietoa vuodelle {years}."
UNHEARD_OF = "Aineistossa ei mainita lainkaan: {words}."


@dataclass
class Composed:
    """The answer's text and, in marker order, the passages it quotes with the sentences quoted from each."""

    text: str
    quoted: list[tuple[Hit, list[str]]] = field(default_factory=list)


def missing_text(verdict: PartVerdict) -> str:
    """What the material lacks for one part, in plain Finnish."""
    if verdict.unheard_of:
        return UNHEARD_OF.format(words=", ".join(sorted(verdict.unheard_of)))
    if verdict.missing_years:
        return MISSING_YEAR.format(years=", ".join(sorted(verdict.missing_years)))
    return MISSING_PART.format(part=verdict.part.text.strip())


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))


class _Selection:
    """Sentences chosen so far, with their markers, kept free of near-duplicates and within the word budget."""

    def __init__(self, hits: Sequence[Hit]):
        self.hits = hits
        self.markers: dict[int, int] = {}  # passage index -> marker number
        self.chosen: list[Sentence] = []
        self.words = 0

    def fits(self, sentence: Sentence) -> bool:
        return (sentence not in self.chosen
                and not any(_jaccard(sentence.lemmas, c.lemmas) > NEAR_DUPLICATE for c in self.chosen)
                and self.words + len(sentence.text.split()) <= MAX_WORDS)

    def take(self, sentence: Sentence) -> str:
        """The sentence with its marker (and its municipality named when that is not obvious)."""
        self.chosen.append(sentence)
        self.words += len(sentence.text.split())
        marker = self.markers.setdefault(sentence.hit_index, len(self.markers) + 1)
        return f"{sentence.text} [{marker}]"

    def quoted(self) -> list[tuple[Hit, list[str]]]:
        by_passage: dict[int, list[str]] = {}
        for sentence in self.chosen:
            by_passage.setdefault(sentence.hit_index, []).append(sentence.text)
        order = sorted(self.markers, key=self.markers.get)
        return [(self.hits[i], by_passage[i]) for i in order]


def next_sentence(best: Evidence, sentences: Sequence[Sentence], analysis: QuestionAnalysis,
                  similarities: Mapping[str, float], asked: str | None) -> Sentence | None:
    """The sentence after the best one in its passage, when it goes on about the question: the summaries state
    a claim, then its detail ("Laukaalla on pitkä kokemus…", then what was done). It must hold a word of the
    question or be close to it in meaning, so a remark that only follows the claim stays out. When the best
    sentence lacks the number or date an amount or time question asks for, only a next sentence that carries it;
    for a question about one municipality, never a sentence about others ("Vertailuksi: naapurikunnat…")."""
    wanted = {"amount": "has_amount", "time": "has_date"}.get(analysis.parts[best.part].kind)
    for sentence in sentences:
        if sentence.hit_index == best.sentence.hit_index and sentence.position == best.sentence.position + 1:
            lacking = wanted and not getattr(best.sentence, wanted) and not getattr(sentence, wanted)
            elsewhere = asked and sentence.places and asked not in sentence.places
            related = (sentence.terms & analysis.terms
                       or similarities.get(sentence.text, 0.0) >= NEXT_SENTENCE_SIMILARITY)
            return None if lacking or elsewhere or not related else sentence
    return None


def second_direct(evidence: Sequence[Evidence], selection: _Selection) -> Evidence | None:
    """A second sentence for the direct answer: nearly as strong as the first, or holding what the question
    asks that the first lacks ("asukkaita ja vapaa-ajan asuntoja": one sentence for each), at a fair share."""
    first = evidence[0]
    for e in evidence[1:]:
        if e.score < SUPPORT_SHARE * first.score:
            break
        adds = e.holds - first.holds
        if (e.score >= SECOND_DIRECT_SHARE * first.score or adds) and selection.fits(e.sentence):
            return e
    return None


def local_first(verdict: PartVerdict, asked: str | None) -> PartVerdict:
    """For a question about one municipality, its own material leads; region-wide evidence supports."""
    if not asked:
        return verdict
    ordered = sorted(verdict.evidence, key=lambda e: asked not in e.sentence.places)  # stable: by score within
    return replace(verdict, evidence=ordered)


def _label(sentence: Sentence, hits: Sequence[Hit], asked: str | None, comparing: bool) -> str:
    """A prefix naming the place when the sentence's municipality is not the one asked about."""
    place = hits[sentence.hit_index].record.municipality
    if comparing:
        return f"{place or REGIONAL_LABEL}: "
    if place and place != asked:
        return f"{place}: "
    if asked and not place:
        return f"{REGIONAL_LABEL}: "
    return ""


def compose(analysis: QuestionAnalysis, decision: Decision, hits: Sequence[Hit], sentences: Sequence[Sentence],
            similarities: Mapping[str, float], asked: str | None) -> Composed:
    """The answer text for a decision that answers (fully or in part)."""
    selection = _Selection(hits)
    comparing = len(analysis.municipalities) > 1
    direct: list[str] = []
    covered = [local_first(v, asked) for v in decision.parts if v.covered]
    best_score = max(v.evidence[0].score for v in covered)

    def add(sentence: Sentence, into: list[str]) -> None:
        into.append(_label(sentence, hits, asked, comparing) + selection.take(sentence))

    if comparing:
        direct.extend(_side_by_side(covered, hits, analysis.municipalities, selection))
    for verdict in covered:
        first = verdict.evidence[0]
        if selection.fits(first.sentence):
            add(first.sentence, direct)
        neighbour = next_sentence(first, sentences, analysis, similarities, None if comparing else asked)
        if neighbour is not None and selection.fits(neighbour):
            add(neighbour, direct)
    if len(covered) == 1 and len(direct) < MAX_DIRECT:
        second = second_direct(covered[0].evidence, selection)
        if second is not None:
            add(second.sentence, direct)
    support: list[str] = []
    rest = sorted((e for v in covered for e in v.evidence[1:]), key=lambda e: e.score, reverse=True)
    for evidence in rest:
        if len(support) == MAX_SUPPORT or evidence.score < SUPPORT_SHARE * best_score:
            break
        if selection.fits(evidence.sentence):
            add(evidence.sentence, support)
    text = (" " if not comparing else "\n").join(direct)
    if support:
        text += "\n\n" + SUPPORT_HEADING + "\n" + "\n".join(f"- {line}" for line in support)
    missing = [missing_text(v) for v in decision.parts if not v.covered]
    if missing:
        text += "\n\n" + " ".join(missing)
    return Composed(text, selection.quoted())


def _side_by_side(covered: Sequence[PartVerdict], hits: Sequence[Hit], places: Sequence[str],
                  selection: _Selection) -> list[str]:
    """For a comparison, the best sentence about each municipality named, one line each."""
    lines = []
    evidence = sorted((e for v in covered for e in v.evidence), key=lambda e: e.score, reverse=True)
    for place in places:
        for e in evidence:
            if hits[e.sentence.hit_index].record.municipality == place and selection.fits(e.sentence):
                lines.append(f"{place}: " + selection.take(e.sentence))
                break
    return lines
