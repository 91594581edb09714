"""Answerability: answer, answer in part, or refuse — one explicit decision per question, made before composing.

A wrong number given to a council is worse than "the material does not cover this", and a list of loosely
related sentences reads as an answer. So every part of the question must find its own evidence, strong enough
(thresholds fitted on the tune split), with the year the question names, never a summary's note that its
sources lacked the thing, and for one municipality from material about it; a question with no part covered is
refused with what is missing said plainly, and one with some parts covered is answered in part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.evidence import Evidence
from bot.question import QuestionAnalysis, QuestionPart
from bot.retrieval import Hit

Route = Literal["answer", "partial", "refuse"]
Reason = Literal["covered", "off_topic", "personal_data", "not_covered"]
COMPARED_SHARE = 0.6  # in a comparison, another place's best sentence scoring this share of the best one counts


@dataclass(frozen=True)
class Thresholds:
    """Fitted on the tune split (scripts/tune_answers.py); BENCHMARKS.md has the figures."""

    min_similarity: float = 0.83  # best passage's cosine similarity below which the question is off-topic …
    min_sentence_similarity: float = 0.88  # … unless a sentence of the passages is at least this close
    min_coverage: float = 0.0  # share of the question's lemmas the best passages must hold (with dense)
    min_relevance: float = 0.3  # the same while only lexical search is ready
    min_evidence: float = 0.4  # a part's best sentence score below which the part is not covered
    min_lexical: float = 0.3  # and its lexical share below which it is not covered, whatever its meaning
    refuse_unheard_of: bool = True  # a part naming something the material never mentions is not covered
    min_semantic_alone: float = 1.0  # a sentence this close in meaning covers a part whatever its words
    local_figures: bool = True  # an amount or a date for one municipality must come from material about it


@dataclass(frozen=True)
class PartVerdict:
    part: QuestionPart
    evidence: Sequence[Evidence]  # best first; empty when the part is not covered
    missing_years: frozenset[str] = frozenset()
    unheard_of: frozenset[str] = frozenset()  # the part's words the material never uses

    @property
    def covered(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: Reason
    parts: Sequence[PartVerdict] = ()


def off_topic(coverage: float, hits: Sequence[Hit], best_sentence: float, thresholds: Thresholds) -> bool:
    """Nothing retrieved is near the question: off-topic questions share a word or two with the material, never
    its meaning (with the dense index), or hardly any of their words (lexical only). A passage of many topics
    can be far from a question that one of its sentences answers, so a close sentence keeps the question."""
    if not hits:
        return True
    similarities = [h.dense for h in hits if h.dense is not None]
    if similarities:
        far = max(similarities) < thresholds.min_similarity and best_sentence < thresholds.min_sentence_similarity
        return far or coverage < thresholds.min_coverage
    return coverage < thresholds.min_relevance


def is_strong(score: float, evidence: Evidence, thresholds: Thresholds) -> bool:
    """Evidence enough for a part, at ``score`` (its own, or the one it would have were it of the asked year)."""
    return (score >= thresholds.min_evidence and evidence.lexical >= thresholds.min_lexical
            or evidence.semantic >= thresholds.min_semantic_alone)


def judge_part(part: QuestionPart, evidence: Sequence[Evidence], unheard_of: frozenset[str], place: str | None,
               thresholds: Thresholds, compared: Sequence[str] = ()) -> PartVerdict:
    """The part's evidence that is strong enough, or none (with the named years or the words the material
    lacks). A figure or a date asked for one municipality (``place``) must come from material about it: a
    region-wide number is no answer to "how much in Karstula". In a comparison of municipalities
    (``compared``) each place's own best sentence is measured against the best one found for any of them."""
    if thresholds.refuse_unheard_of and part.terms & unheard_of:
        return PartVerdict(part, (), unheard_of=part.terms & unheard_of)
    strong = [e for e in evidence if is_strong(e.score, e, thresholds)]
    if part.kind != "yesno":  # "X was not found in the sources" answers only whether X exists
        if strong and strong[0].sentence.states_gap:
            return PartVerdict(part, ())
        strong = [e for e in strong if not e.sentence.states_gap]
    if strong and compared:
        strong = strong + compared_evidence(evidence, strong, compared, thresholds)
    if place and thresholds.local_figures and part.kind in ("amount", "time"):
        strong = [e for e in strong if place in e.sentence.places]
    if part.years:
        dated = [e for e in strong if part.years & e.sentence.years]
        if not dated:  # the year is what is missing when evidence of other years would do
            other_years = any(is_strong(e.score_any_year, e, thresholds) for e in evidence)
            return PartVerdict(part, (), missing_years=part.years if other_years else frozenset())
        strong = dated + [e for e in strong if e not in dated]
    return PartVerdict(part, strong)


def compared_evidence(evidence: Sequence[Evidence], strong: Sequence[Evidence], places: Sequence[str],
                      thresholds: Thresholds) -> list[Evidence]:
    """For each compared place that has no strong evidence of its own, its best sentence when that holds the
    part's words, what the kind asks for, and a fair share of the best score (a comparison is side by side)."""
    bar = COMPARED_SHARE * strong[0].score
    extra = []
    for place in places:
        if any(place in e.sentence.places for e in strong):
            continue
        own = [e for e in evidence if place in e.sentence.places and not e.sentence.states_gap]
        if own and own[0].score >= bar and own[0].lexical >= thresholds.min_lexical and own[0].fit > 0:
            extra.append(own[0])
    return extra


def decide(analysis: QuestionAnalysis, coverage: float, hits: Sequence[Hit], evidence: Sequence[Sequence[Evidence]],
           unheard_of: frozenset[str], place: str | None, thresholds: Thresholds) -> Decision:
    """The route for the whole question."""
    if analysis.personal_data:
        return Decision("refuse", "personal_data")
    best_sentence = max((e.semantic for found in evidence for e in found), default=0.0)
    if off_topic(coverage, hits, best_sentence, thresholds):
        return Decision("refuse", "off_topic")
    compared = analysis.municipalities if len(analysis.municipalities) > 1 else ()
    place = None if compared else place
    verdicts = [judge_part(part, found, unheard_of, place, thresholds, compared)
                for part, found in zip(analysis.parts, evidence)]
    covered = sum(v.covered for v in verdicts)
    if covered == 0:
        return Decision("refuse", "not_covered", verdicts)
    return Decision("answer" if covered == len(verdicts) else "partial", "covered", verdicts)
