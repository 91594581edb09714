"""Question analysis: the kind of what is asked, its years, parts, municipalities and personal-data requests."""

from __future__ import annotations

import pytest

from bot.question import analyze, question_kind


@pytest.mark.parametrize("question, kind", [
    ("Paljonko Jämsän päästöt ovat vuonna 2045?", "amount"),
    ("Kuinka suuri osuus päästöistä tulee tieliikenteestä?", "amount"),
    ("Montako kuntaa kuuluu Hinku-verkostoon?", "amount"),
    ("Mikä on Joutsan ilmastobudjetti vuodelle 2032?", "amount"),
    ("Mitä Wiilon aurinkovoimala maksaa?", "amount"),  # "what does it cost" asks a sum, not a list
    ("Mitä kaikkea kunta voi tehdä maksimissaan kolmessa vuodessa?", "list"),
    ("Milloin tiekartta hyväksyttiin?", "time"),
    ("Minä päivänä maakuntahallitus hyväksyi tiekartan?", "time"),
    ("Mihin mennessä kunnan pitää tehdä ilmastosuunnitelma?", "time"),
    ("Kuka vastaa Multian ilmastotyöstä?", "who"),
    ("Mikä taho myöntää energiatukea?", "who"),
    ("Keneltä saa neuvoja hankintoihin?", "who"),
    ("Mitä tarkoittaa hiilineutraalius?", "definition"),
    ("Mikä on Hinku-verkosto?", "definition"),
    ("Miten kunta voi vähentää liikenteen päästöjä?", "reason"),
    ("Miksi kunnan kannattaa tehdä ilmastotyötä?", "reason"),
    ("Mitkä ovat Laukaan suurimmat päästölähteet?", "list"),
    ("Onko Laukaa mukana Hinku-verkostossa?", "yesno"),
    ("Kuuluuko Jyväskylä FISU-verkostoon?", "yesno"),
])
def test_question_kind_is_read_from_its_question_words(question, kind):
    assert question_kind(question) == kind


def test_two_questions_in_one_become_two_parts_with_their_own_kinds():
    analysis = analyze("Milloin tiekartta hyväksyttiin ja kuka sen hyväksyi?")
    assert [p.kind for p in analysis.parts] == ["time", "who"]
    assert "tiekartta" in analysis.parts[0].terms


def test_years_municipalities_and_topic_words_are_found():
    analysis = analyze("Paljonko Jämsän päästöt ovat vuonna 2045?")
    assert analysis.years == {"2045"} and analysis.parts[0].years == {"2045"}
    assert analysis.municipalities == ("Jämsä",)
    assert "päästö" in analysis.terms
    assert not {"paljonko", "jämsä", "vuosi", "2045"} & analysis.terms  # question words, places, years apart


def test_comparison_names_both_municipalities():
    assert analyze("Vertaa Jämsän ja Keuruun ilmastotavoitteita").municipalities == ("Jämsä", "Keuruu")


@pytest.mark.parametrize("question", [
    "Mikä on Laukaan ympäristöpäällikön puhelinnumero?",
    "Anna kunnanjohtajan sähköpostiosoite",
    "Mikä on hänen henkilötunnuksensa?",
    "Missä on kunnanjohtajan kotiosoite?",
    "Missä metsäneuvoston puheenjohtaja Pauli Rintala asuu?",
])
def test_requests_for_personal_data_are_flagged(question):
    assert analyze(question).personal_data


def test_ordinary_questions_are_not_personal_data():
    assert not analyze("Mistä kunta saa rahoitusta ilmastotyöhön?").personal_data
    assert not analyze("Missä Keski-Suomessa asuu eniten ihmisiä?").personal_data
    assert not analyze("Paljonko Jyväskylän Kortepohjassa asuu ihmisiä?").personal_data  # a place, not a name


@pytest.mark.parametrize("question, kind", [
    ("Kumpi on pinta-alaltaan suurempi, Jämsä vai Viitasaari?", "amount"),
    ("Millä hinnalla kunta myi tontin?", "amount"),
    ("Mikä on Multian ilmastosuunnitelman päästövähennystavoite?", "amount"),  # a municipality's, not a definition
    ("Mitä taakanjakosektori tarkoittaa?", "definition"),
    ("Mikä oli enimmäisavustus hanketta kohden vuoden 2022 haussa?", "amount"),
    ("Mikä on Pohjoisen Keski-Suomen ilmastosuunnitelma -hankkeen projektipäällikön palkka?", "amount"),
])
def test_comparisons_prices_and_definitions_are_told_apart(question, kind):
    assert question_kind(question) == kind


def test_comparatives_and_colloquial_fillers_are_not_topic_words():
    assert "moni" not in analyze("Kuinka moni kunta osallistui ilmastotapaamiseen?").terms
    assert "n" not in analyze("Mihin vuoteen Jyväskylä vertaa 80 %:n tavoitettaan?").terms
    assert analyze("Miten Uuraisten ja Petäjäveden hyväksymispäivät eroavat toisistaan?").terms == {"hyväksymispäivä"}
    assert analyze("Kumpi on pinta-alaltaan suurempi, Jämsä vai Viitasaari?").terms == {"pinta-ala"}
    assert analyze("Mitä meillä päin on tuulivoimassa menossa?").terms == {"tuulivoima"}


def test_private_forest_owners_are_not_personal_data():
    assert not analyze("Montako yksityistä metsänomistajaa Keski-Suomessa on?").personal_data
    assert analyze("Mikä on kunnanjohtajan yksityispuhelin?").personal_data


@pytest.mark.parametrize("question, unit", [
    ("Paljonko rahoitusta Kinnulalle kohdistuu?", "money"),
    ("Millä hinnalla tehdas myytiin?", "money"),
    ("Kuinka suuri osa asukkaista on yli 65-vuotiaita?", "share"),
    ("Paljonko sähköä tuulipuisto tuottaa vuodessa?", "energy"),
    ("Mikä on hankkeen projektipäällikön palkka?", "money"),
    ("Paljonko koulun rakentaminen maksoi?", "money"),  # 221 solar panels is no price
    ("Montako hanketta sai rahoitusta?", None),  # a count, whatever it counts
    ("Kuinka monta prosenttia sähkönkulutus pieneni?", "share"),  # … unless it counts the unit
    ("Kuinka monta euroa ministeriö myönsi hankkeelle?", "money"),
    ("Paljonko Keski-Suomessa sataa vuodessa?", None),
])
def test_the_unit_an_amount_is_asked_in(question, unit):
    assert analyze(question).parts[0].unit == unit


def test_words_restating_the_unit_or_the_place_need_no_evidence():
    part = analyze("Paljonko Petäjäveden kunta käyttää rahaa kaukolämpöön vuodessa?").parts[0]
    assert part.unit == "money" and part.terms == {"kaukolämpö", "käyttää"}
    assert "kunta" in analyze("Mitä kunta voi tehdä ilmastolle?").parts[0].terms  # no place named: it is the topic


@pytest.mark.parametrize("question, counted", [
    ("Montako tuulivoimalaa Kyyjärvelle on suunniteltu?", "tuulivoimala"),
    ("Kuinka moni kunta osallistui rahoitusneuvontaan?", "kunta"),
    ("Kuinka monta ihmistä metsät työllistävät?", None),  # people are counted in many words ("5 900 henkeä")
    ("Kuinka monta prosenttia päästöt laskivat?", None),  # a unit, not a thing counted
    ("Paljonko tuulivoimaloita on?", None),  # an amount, not a count
])
def test_a_count_knows_what_it_counts(question, counted):
    part = analyze(question).parts[0]
    assert part.counted == counted
    assert "moni" not in part.terms  # "Montako" says how it is asked
