"""The answer engine on a small made-up corpus, lexical retrieval only (quick): the sentence that answers what is
asked, refusal of what the material lacks, partial answers, municipalities kept apart, comparisons."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.answer import Answer, Answerer, is_stale
from bot.compose import SUPPORT_HEADING, next_sentence
from bot.evidence import Evidence, Sentence
from bot.question import analyze
from ingest.pipeline import lexical_phase
from tests.conftest import make_settings

DOCS = {
    "kunnat/laukaa.md": ("Laukaa", """# Laukaa

## Päästöt

Laukaan suurimmat päästölähteet ovat tieliikenne, maatalous ja erillislämmitys. Tieliikenteen osuus Laukaan
päästöistä oli 38 % vuonna 2021. Laukaa on tehnyt ilmastotyötä pitkään ja sitä on esitelty monissa tilaisuuksissa.

## Tavoitteet

Laukaan tavoitteena on vähentää kasvihuonekaasupäästöjä 80 % vuoteen 2030 mennessä vuoden 2007 tasosta.
Laukaan ilmasto-ohjelma hyväksyttiin kunnanvaltuustossa 14.6.2021, ja sen toteutumista seurataan vuosittain.
"""),
    "kunnat/jamsa.md": ("Jämsä", """# Jämsä

## Päästöt

Jämsän suurimmat päästölähteet ovat teollisuus ja tieliikenne, ja teollisuuden osuus on suurin.
Jämsän tavoitteena on hiilineutraalius vuoteen 2035 mennessä, ja kaupunki on mukana Hinku-verkostossa.
"""),
    "kunnat/multia.md": ("Multia", """# Multia

## Perustiedot

Multiassa oli 1 600 asukasta vuoden 2023 lopussa, ja kunta sijaitsee Keski-Suomen länsiosassa.
Multia osti aurinkopaneelit koulun katolle ja kunnan varikolle.
Multian koululle asennettiin vuonna 2022 laitteisto, jonka teho on 40 kilowattia.

## Tuulivoima

Multian Nikaran tuulivoimapuistoon suunnitellaan kahdeksaa voimalaa, jotka tuottaisivat sähköä ja joiden
napakorkeus on 200 metriä.

## Päästöt

Multian omia kuntakohtaisia päästölukuja ei löytynyt tämän tiivistelmän lähteistä.
"""),
    "kunnat/kinnula.md": ("Kinnula", """# Kinnula

## Perustiedot

Asukkaita oli 1 495 maaliskuun 2025 lopussa, ja kunnan kokonaispinta-ala on 495,71 km², josta vesistöjä on
35,48 km², ja kunta on harvaan asuttu maaseutukunta Keski-Suomen pohjoisosassa Saarijärven seutukunnassa.
"""),
    "materiaalit/rahoitus.md": (None, """# Rahoitus

## Ympäristöministeriö

Ympäristöministeriö myöntää avustuksia kuntien ilmastotyöhön, ja haku on yleensä avoinna keväällä.
Energiavirasto myöntää energiatukea kuntien investointeihin, jotka vähentävät energiankulutusta.
"""),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    root = tmp_path_factory.mktemp("engine")
    corpus = root / "corpus"
    for doc_id, (place, body) in DOCS.items():
        path = corpus / doc_id
        path.parent.mkdir(parents=True, exist_ok=True)
        front = f"municipality: {place}\ndoc_type: kuntatiivistelmä\n" if place else "doc_type: materiaali\n"
        path.write_text(f"---\ntitle: {Path(doc_id).stem}\n{front}date: '2023'\n---\n{body}", encoding="utf-8")
    settings = make_settings(root / "data", corpus)
    lexical_phase(settings, [corpus], progress=False)
    return Answerer(settings)


def quoted(answer: Answer) -> str:
    return " ".join(q for c in answer.citations for q in c.highlights)


def test_amount_question_quotes_the_sentence_with_the_number(engine):
    answer = engine.answer("Kuinka suuri osuus Laukaan päästöistä tulee tieliikenteestä?")
    assert not answer.refused
    first = answer.answer.split("\n")[0]
    assert "38 %" in first  # the number is in the direct answer, not buried in the supporting points


def test_the_sentence_after_the_answer_is_quoted_only_when_it_goes_on_about_the_question(engine):
    answer = engine.answer("Kuinka suuri osuus Laukaan päästöistä tulee tieliikenteestä?")
    assert "38 %" in answer.answer and "tilaisuuksissa" not in answer.answer  # a remark that merely follows
    claim = Sentence("Laukaalla on pitkä kokemus rakennusten energiatehokkuudesta.", 0, 0, frozenset(),
                     frozenset({"energiatehokkuus", "rakennus"}), frozenset(), False, False, False, frozenset({"Laukaa"}))
    detail = replace(claim, text="Koulun katolle asennettiin 221 aurinkopaneelia.", position=1,
                     terms=frozenset({"koulu", "aurinkopaneeli"}))
    about_others = replace(detail, places=frozenset({"Uurainen"}))
    analysis = analyze("Mitä energiatehokkuustekoja Laukaassa on tehty?")
    best = Evidence(claim, 0, 0.6, 0.5, 0.88, 1.0)
    close, far = {detail.text: 0.85}, {detail.text: 0.79}
    assert next_sentence(best, [claim, detail], analysis, close, "Laukaa") == detail
    assert next_sentence(best, [claim, detail], analysis, far, "Laukaa") is None  # neither its words nor its meaning
    assert next_sentence(best, [claim, about_others], analysis, close, "Laukaa") is None


def test_time_question_quotes_the_date(engine):
    answer = engine.answer("Milloin Laukaan ilmasto-ohjelma hyväksyttiin?")
    assert "14.6.2021" in answer.answer.split("\n")[0]


def test_a_year_the_material_lacks_is_refused_and_named(engine):
    answer = engine.answer("Paljonko Laukaan päästöt ovat vuonna 2045?")
    assert answer.refused and answer.citations == []
    assert "2045" in answer.answer
    assert "38 %" not in answer.answer and "80 %" not in answer.answer  # no nearby numbers passed off as answers


def test_personal_data_is_refused_with_a_pointer_to_official_channels(engine):
    answer = engine.answer("Mikä on Laukaan ympäristöpäällikön puhelinnumero?")
    assert answer.refused and answer.citations == []
    assert "virallisilta verkkosivuilta" in answer.answer


def test_two_part_question_with_one_part_missing_is_answered_in_part(engine):
    answer = engine.answer("Mitkä ovat Laukaan suurimmat päästölähteet ja paljonko Laukaa käyttää rahaa vuonna 2040?")
    assert not answer.refused and answer.outcome == "partial"
    assert "tieliikenne" in answer.answer
    assert "2040" in answer.answer.split("\n")[-1]  # the missing part is said, last


def test_another_municipalitys_summary_never_answers_for_one_municipality(engine):
    answer = engine.answer("Mitkä ovat Laukaan suurimmat päästölähteet?")
    assert not answer.refused
    assert {c.municipality for c in answer.citations} <= {"Laukaa", None}
    assert "Jämsä" not in answer.answer


def test_comparison_puts_the_municipalities_side_by_side(engine):
    answer = engine.answer("Vertaa Laukaan ja Jämsän suurimpia päästölähteitä")
    lines = answer.answer.split("\n")
    assert any(line.startswith("Laukaa:") for line in lines) and any(line.startswith("Jämsä:") for line in lines)
    assert {c.municipality for c in answer.citations} == {"Laukaa", "Jämsä"}


def test_every_marker_has_its_citation_and_every_quote_is_verbatim(engine):
    answer = engine.answer("Mistä kunta voi hakea avustuksia ilmastotyöhön?")
    assert not answer.refused
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        assert citation.quote in citation.chunk_text
        assert all(h in citation.chunk_text for h in citation.highlights)


def test_supporting_points_stay_few_and_related(engine):
    answer = engine.answer("Mitkä ovat Laukaan päästöt ja tavoitteet?")
    if SUPPORT_HEADING in answer.answer:
        support = answer.answer.split(SUPPORT_HEADING)[1].strip().splitlines()
        assert len(support) <= 3
    assert "tilaisuuksissa" not in quoted(answer)  # the sentence that only shares the name is not evidence


@pytest.mark.parametrize("checked, stale", [("2026-11-30", False), ("2020-01-01", True), (None, False), ("x", False)])
def test_documents_checked_long_ago_are_flagged(checked, stale):
    assert is_stale(checked, 730, today=date(2026, 12, 1)) is stale


def test_a_document_marked_superseded_is_never_cited(engine):
    question = "Mitkä ovat Laukaan suurimmat päästölähteet?"
    assert any(c.doc_id == "kunnat/laukaa.md" for c in engine.answer(question).citations)
    engine.superseded.mark("kunnat/laukaa.md")
    try:
        assert all(c.doc_id != "kunnat/laukaa.md" for c in engine.answer(question).citations)
    finally:
        engine.superseded.unmark("kunnat/laukaa.md")


def test_a_sentence_saying_the_sources_lack_it_is_no_answer(engine):
    answer = engine.answer("Mitä kuntakohtaisia päästölukuja Multialla on?")
    assert answer.refused and answer.citations == []
    assert "ei löytynyt" not in answer.answer  # the summary's own gap note is not passed off as an answer


def test_an_amount_question_is_not_answered_by_a_sentence_without_a_number(engine):
    answer = engine.answer("Millä hinnalla Multia osti aurinkopaneelit?")
    assert answer.refused
    assert "koulun katolle" not in answer.answer


def test_a_comparison_gives_each_municipality_its_own_figure(engine):
    answer = engine.answer("Kummassa on enemmän asukkaita, Multiassa vai Kinnulassa?")
    assert not answer.refused
    lines = answer.answer.split("\n")
    assert any(line.startswith("Multia:") and "1 600" in line for line in lines)
    assert any(line.startswith("Kinnula:") and "1 495" in line for line in lines)


def test_an_amount_in_the_wrong_unit_is_no_answer(engine):
    answer = engine.answer("Paljonko sähköä Multian Nikaran tuulivoimapuisto tuottaa?")
    assert answer.refused  # the material gives the turbines and their height, not the energy
    assert "200 metriä" not in answer.answer
    counted = engine.answer("Montako voimalaa Multian Nikaran tuulivoimapuistoon suunnitellaan?")
    assert not counted.refused and "kahdeksaa voimalaa" in counted.answer


def test_a_count_is_answered_only_by_a_number_of_what_it_counts(engine):
    answer = engine.answer("Montako aurinkopaneelia Multian koululle asennettiin?")
    assert answer.refused  # 40 kilowatts is a number, but not of panels
    assert "40 kilowattia" not in answer.answer


def test_a_municipality_named_in_the_question_wins_over_the_setting(engine):
    answer = engine.answer("Mitkä ovat Jämsän suurimmat päästölähteet?", municipality="Laukaa")
    assert not answer.refused
    assert {c.municipality for c in answer.citations} <= {"Jämsä", None}
    assert "teollisuus" in answer.answer
    default = engine.answer("Mitkä ovat kunnan suurimmat päästölähteet?", municipality="Laukaa")
    assert {c.municipality for c in default.citations} <= {"Laukaa", None}
