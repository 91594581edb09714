"""Answerability on hand-made evidence (quick): what keeps a question on topic, when a year is what is missing,
and how a comparison lets each municipality's own sentence count."""

from __future__ import annotations

from bot.answerability import Thresholds, compared_evidence, judge_part, off_topic
from bot.evidence import (DERIVED_WEIGHT, PART_WEIGHT, Evidence, EvidenceScorer, Sentence, TermWeights, Weights,
                          has_quantity, quotable_sentences, sentence_lemmas, sentence_places, sentence_terms)
from bot.question import QuestionPart
from bot.retrieval import Hit
from bot.store import ChunkRecord

THRESHOLDS = Thresholds(min_similarity=0.83, min_sentence_similarity=0.88, min_coverage=0.0, min_evidence=0.4,
                        min_lexical=0.3)


def hit(dense: float) -> Hit:
    return Hit(ChunkRecord(id="c", text="", doc_id="d", title="t", chunk_index=0), score=1.0, dense=dense)


def sentence(text: str, places: tuple[str, ...] = (), years: tuple[str, ...] = ()) -> Sentence:
    return Sentence(text=text, hit_index=0, position=0, lemmas=frozenset(), terms=frozenset(),
                    years=frozenset(years), has_amount=True, has_date=bool(years), has_name=False,
                    places=frozenset(places))


def evidence(text: str, score: float, lexical: float = 1.0, places: tuple[str, ...] = (),
             years: tuple[str, ...] = (), any_year: float | None = None) -> Evidence:
    return Evidence(sentence(text, places, years), 0, score, lexical, 0.85, 1.0,
                    score if any_year is None else any_year)


def test_a_close_sentence_keeps_a_question_whose_passages_are_far_on_topic():
    assert off_topic(1.0, [hit(0.80)], best_sentence=0.85, thresholds=THRESHOLDS)
    assert not off_topic(1.0, [hit(0.80)], best_sentence=0.90, thresholds=THRESHOLDS)
    assert not off_topic(1.0, [hit(0.84)], best_sentence=0.70, thresholds=THRESHOLDS)


def test_a_year_is_named_missing_only_when_evidence_of_another_year_would_do():
    part = QuestionPart("Paljonko päästöt ovat vuonna 2045", "amount", frozenset({"päästö"}), frozenset({"2045"}))
    other_year = [evidence("Päästöt olivat 300 kt vuonna 2021.", 0.06, any_year=0.6, years=("2021",))]
    assert judge_part(part, other_year, frozenset(), None, THRESHOLDS).missing_years == {"2045"}
    unrelated = [evidence("Kunta teki ilmastotyötä vuonna 2021.", 0.01, lexical=0.1, any_year=0.1, years=("2021",))]
    verdict = judge_part(part, unrelated, frozenset(), None, THRESHOLDS)
    assert not verdict.covered and not verdict.missing_years


def test_a_gap_note_of_the_summary_is_no_evidence():
    part = QuestionPart("Paljonko Multian päästöt ovat", "list", frozenset({"päästö"}), frozenset())
    gap = Evidence(Sentence("Multian päästölukuja ei löytynyt lähteistä.", 0, 0, frozenset(), frozenset(),
                            frozenset(), False, False, False, frozenset({"Multia"}), states_gap=True),
                   0, 0.9, 1.0, 0.9, 1.0, 0.9)
    assert not judge_part(part, [gap], frozenset(), "Multia", THRESHOLDS).covered


def test_in_a_comparison_each_place_gets_its_own_best_sentence_at_a_fair_share_of_the_best():
    best = evidence("Kinnulassa asukkaita oli 1 495.", 0.45, places=("Kinnula",))
    second = evidence("Kivijärvellä asukkaita oli 1 088.", 0.30, places=("Kivijärvi",))
    weak = evidence("Kivijärvi on pieni järvikunta.", 0.20, places=("Kivijärvi",))
    assert compared_evidence([best, second], [best], ("Kinnula", "Kivijärvi"), THRESHOLDS) == [second]
    assert compared_evidence([best, weak], [best], ("Kinnula", "Kivijärvi"), THRESHOLDS) == []


def test_counts_are_quantities_but_dates_years_and_ordinals_are_not():
    def quantity(text: str) -> bool:
        return has_quantity(text, sentence_lemmas(text))

    assert quantity("Asukkaita oli 1 088 (31.12.2021).")
    assert quantity("Hankkeen asukaskyselyyn tuli 454 vastausta.")
    assert quantity("Keski-Suomessa toimii neljä Leader-ryhmää.")
    assert not quantity("Kunnanvaltuusto hyväksyi ilmastosuunnitelman 17.2.2025.")
    assert not quantity("CO2-päästöt laskivat vuonna 2019.")
    assert not quantity("Strategia 2025–2050 hyväksyttiin.")


def test_question_words_the_material_never_uses_resolve_to_its_own():
    weights = TermWeights([["ilmastosuunnitelma", "päästö"], ["päästö", "tavoite"]])
    assert weights.resolve("ilmastosuunitelma") == "ilmastosuunnitelma"  # a typo
    assert weights.resolve("päästöjää") == "päästö"  # the lemmatiser's miss on "päästöjään"
    assert weights.resolve("tavoite") == "tavoite"
    assert weights.resolve("jalkapallo") == "jalkapallo"  # nothing near it: stays, and finds no evidence


def test_a_gap_note_is_told_from_a_remark_in_parentheses():
    text = ("Kyyjärven ilmastotyöryhmä kokoontui ensimmäisen kerran elokuussa 2024 (raporttia tapaamisesta ei "
            "löytynyt). Kyyjärven omia päästölukuja ei löytynyt tämän tiivistelmän lähteistä.")
    record = ChunkRecord(id="c", text=text, doc_id="kunnat/kyyjarvi.md", title="t", chunk_index=0,
                         municipality="Kyyjärvi")
    remark, gap = quotable_sentences([Hit(record, score=1.0)], "Kyyjärvi", lambda lemmas: lemmas)
    assert not remark.states_gap and gap.states_gap


def test_a_sentence_naming_other_municipalities_is_about_them_not_its_document():
    from_keuruu = "Vertailuksi: naapurikunnat Uurainen ja Petäjävesi hyväksyivät omat suunnitelmansa vuonna 2025."
    assert sentence_places(from_keuruu, "Keuruu") == {"Uurainen", "Petäjävesi"}
    assert sentence_places("Asukkaita oli 1 088 vuonna 2021.", "Kivijärvi") == {"Kivijärvi"}
    assert sentence_places("Maakunnan päästöt laskivat.", None) == frozenset()


def test_another_form_of_the_same_stem_counts_for_more_than_a_compound_part():
    scorer = EvidenceScorer(TermWeights([["täyttää", "osuus"]]), lambda lemmas: list(lemmas))
    participle = Sentence("65 vuotta täyttäneiden osuus oli 33 %.", 0, 0, frozenset({"täyttäneiden", "osuus"}),
                          frozenset({"täyttäneiden", "osuus"}), frozenset(), True, False, False, frozenset())
    assert scorer.match("täyttää", participle) == DERIVED_WEIGHT
    assert scorer.match("osuus", participle) == 1.0
    assert scorer.match("päästö", participle) == 0.0


def test_a_word_only_the_sentence_before_or_the_headings_hold_counts_at_the_surroundings_weight():
    """"Montako vastausta asukaskysely keräsi?" is answered by "Hankkeen asukaskyselyyn tuli 454 vastausta",
    which leaves the project's name to the sentence before it."""
    text = ("Läntisen Keski-Suomen ilmastosuunnitelma -hanke laati neljälle kunnalle suunnitelmat. "
            "Hankkeen asukaskyselyyn tuli alueelta 454 vastausta.")
    record = ChunkRecord(id="c", text=text, doc_id="d", title="t", chunk_index=0, headings="Seudulliset hankkeet")
    named, count = quotable_sentences([Hit(record, score=1.0)], None, lambda lemmas: list(lemmas))
    assert "ilmastosuunnitelma" in count.surroundings and "seudullinen" in count.surroundings
    assert "ilmastosuunnitelma" not in named.surroundings
    terms, weight = frozenset({"ilmastosuunnitelma", "vastaus"}), lambda lemma: 1.0

    def held(surroundings: float) -> tuple[float, frozenset[str]]:
        scorer = EvidenceScorer(TermWeights([["ilmastosuunnitelma"]]), lambda lemmas: list(lemmas),
                                Weights(surroundings=surroundings))
        return scorer._held(terms, count, weight)

    assert held(0.0) == (0.5, {"vastaus"})
    assert held(0.4) == (0.7, {"vastaus"})  # held: the word the sentence itself holds, not the carried one


def test_a_typo_is_read_as_a_word_of_about_its_length_and_yhdessa_is_no_number():
    weights = TermWeights([["varoittaa", "ilmastosuunnitelma"]])
    assert weights.resolve("voittaa") == "voittaa"  # "voittivat" is not "varoittaa"
    assert TermWeights([["asentanut"]]).resolve("asettanut") == "asettanut"  # a Finnish word, so no typo
    together = "Kunnat järjestivät yhdessä ilmastotapaamisen, jossa henkilöstö jakoi kokemuksiaan."
    assert not has_quantity(together, sentence_lemmas(together))


def test_compounds_match_their_hyphenated_inflected_and_longer_forms():
    scorer = EvidenceScorer(TermWeights([["tuuli", "voima", "ilmasto", "ohjelma"]]), lambda lemmas: list(lemmas))
    scorer.parts = lambda term: frozenset({"tuuli", "voima"}) if term == "tuulivoima" else frozenset()

    def sentence_of(*lemmas: str) -> Sentence:
        plain = frozenset(lemmas)
        return Sentence(" ".join(lemmas), 0, 0, plain, sentence_terms(plain, lambda ls: list(ls)), frozenset(),
                        False, False, False, frozenset())

    assert scorer.match("ohjelma", sentence_of("ilmasto-ohjelma")) == PART_WEIGHT  # a part of "ilmasto-ohjelma"
    assert scorer.match("pinta-ala", sentence_of("pintaala")) == 1.0
    assert scorer.match("tuulivoima", sentence_of("tuulivoimala")) == DERIVED_WEIGHT
    assert scorer.match("tuulivoima", sentence_of("tuulisähkö")) == 0.0  # the first letters alone are not enough
    assert scorer.match("järjestelmä", sentence_of("aurinkosähköjärjestelmä")) == PART_WEIGHT  # the head, uncut
