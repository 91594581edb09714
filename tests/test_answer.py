"""Answers on the starter corpus: cited, quotes true to their chunks, refusals, municipalities, follow-ups."""

from __future__ import annotations

import json
import re

import pytest

from bot.answer import EMPTY_HINT, Answer
from bot.conversation import standalone_question
from tests.test_ingest import run_cli

pytestmark = pytest.mark.slow


def assert_well_cited(answer: Answer, answerer) -> None:
    assert not answer.refused
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        chunk = answerer.retriever.by_id[citation.chunk_id]
        assert citation.quote in chunk.text
        assert citation.doc_id == chunk.doc_id


def test_climate_act_question_is_answered_from_the_info_package(answerer):
    answer = answerer.answer("Mitä ilmastolaki vaatii kunnalta?")
    assert_well_cited(answer, answerer)
    assert any(c.doc_id.startswith("tietopaketti/") for c in answer.citations)
    assert "ilmastosuunnitelm" in answer.answer


def test_numbers_are_copied_exactly_from_the_source(answerer):
    answer = answerer.answer("Paljonko Pohjoisen Keski-Suomen ilmastosuunnitelma -hankkeen budjetti on?")
    assert_well_cited(answer, answerer)
    assert "360 000" in answer.answer


@pytest.mark.parametrize("question", [
    "Kuka voitti jalkapallon MM-kisat vuonna 2022?",
    "Anna hyvä resepti karjalanpiirakoihin",
    "Miten leivon täytekakun syntymäpäiville?",
])
def test_off_topic_is_refused_with_suggestions_and_no_citations(answerer, question):
    answer = answerer.answer(question)
    assert answer.refused and answer.citations == []
    assert "aineisto ei kata" in answer.answer
    assert 2 <= len(answer.suggestions) <= 3
    for suggestion in answer.suggestions:  # the suggestions really are answerable
        assert not answerer.answer(suggestion).refused


def test_named_municipality_is_preferred_and_others_not_quoted(answerer):
    answer = answerer.answer("Mitkä ovat Laukaan suurimmat päästölähteet?")
    assert_well_cited(answer, answerer)
    assert answer.citations[0].municipality == "Laukaa"
    assert {c.municipality for c in answer.citations} <= {"Laukaa", None}


def test_municipality_setting_works_without_naming_it(answerer):
    answer = answerer.answer("Millainen ilmastosuunnitelma kunnalla on?", municipality="Uurainen")
    assert_well_cited(answer, answerer)
    assert answer.citations[0].municipality == "Uurainen"


def test_fallback_to_region_wide_material_is_said(answerer):
    answer = answerer.answer("Mikä on Hinku-verkosto ja mitä Konnevedellä tiedetään siitä?")
    assert not answer.refused
    local = any(c.municipality == "Konnevesi" for c in answer.citations)
    assert local != any("alueelliseen aineistoon" in n for n in answer.notices)  # the notice exactly when needed


def test_follow_up_is_rewritten_with_the_earlier_question(answerer):
    history = [("Mitkä ovat Jyväskylän suurimmat päästölähteet?", "…")]
    assert standalone_question("entä Laukaassa?", history) == "Mitkä ovat Laukaa suurimmat päästölähteet?"
    answer = answerer.answer("entä Laukaassa?", history=history)
    assert_well_cited(answer, answerer)
    assert answer.standalone.startswith("Mitkä ovat Laukaa")
    assert answer.citations[0].municipality == "Laukaa"


def test_standalone_question_is_left_alone():
    history = [("Mitkä ovat Jyväskylän suurimmat päästölähteet?", "…")]
    question = "Mistä kunta voi hakea rahoitusta ilmastotyöhön?"
    assert standalone_question(question, history) == question


def test_empty_question_gets_a_hint_and_long_one_a_notice(answerer):
    empty = answerer.answer("   ")
    assert empty.answer == EMPTY_HINT and empty.citations == []
    long = answerer.answer("Mitä ilmastolaki vaatii kunnalta? " * 40)
    assert any("ensimmäistä merkkiä" in n for n in long.notices)


def test_cli_ask_json_and_batch(starter_settings, tmp_path):
    data = str(starter_settings.data_dir)
    done = run_cli("-m", "bot", "ask", "Mikä on Hinku-verkosto?", "--json", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"answer", "refused", "citations", "seconds"} <= set(result)
    assert set(result["citations"][0]) == {"n", "doc_id", "title", "page", "municipality", "source_url", "quote",
                                           "checked"}
    batch = tmp_path / "kysymykset.jsonl"
    batch.write_text('{"id": 1, "question": "Mikä on Hinku-verkosto?"}\n{"id": 2, "question": "Resepti pullaan"}\n', encoding="utf-8")
    done = run_cli("-m", "bot", "ask", "--batch", str(batch), "--data-dir", data)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == [1, 2]
    assert lines[0]["result"]["refused"] is False and lines[1]["result"]["refused"] is True


def test_chat_messages_become_question_answer_pairs():
    from bot.conversation import question_answer_pairs

    messages = [("user", "Jyväskylän päästöt?"), ("assistant", "Vastaus [1]"), ("user", "entä Laukaassa?")]
    assert question_answer_pairs(messages) == [("Jyväskylän päästöt?", "Vastaus [1]")]


@pytest.mark.parametrize("question, named", [
    ("Mikä on Joutsan ilmastobudjetti vuodelle 2032?", "2032"),
    ("Paljonko Jämsän päästöt ovat vuonna 2045?", "2045"),
])
def test_a_figure_for_a_year_the_material_lacks_is_refused(answerer, question, named):
    answer = answerer.answer(question)
    assert answer.refused and answer.citations == []
    assert named in answer.answer
    assert "Aineiston mukaan" not in answer.answer


def test_a_grant_that_does_not_exist_is_refused(answerer):
    answer = answerer.answer("Miten kunta hakee Keski-Suomen liiton Hiilikukkaro-tukea?")
    assert answer.refused and answer.citations == []


def test_personal_data_is_refused_with_the_official_channels(answerer):
    answer = answerer.answer("Mikä on Laukaan kunnanjohtajan puhelinnumero?")
    assert answer.refused and answer.citations == []
    assert "kirjaamo" in answer.answer


@pytest.mark.parametrize("place", ["Joutsa", "Kinnula", "Laukaa", "Multia", "Toivakka", "Viitasaari"])
def test_a_question_about_one_municipality_never_quotes_another_municipalitys_summary(answerer, place):
    answer = answerer.answer(f"Mitä {place} tekee ilmastonmuutoksen hillitsemiseksi?")
    assert {c.municipality for c in answer.citations} <= {place, None}


def test_answers_stay_short(answerer):
    for question in ("Mitä ilmastolaki vaatii kunnalta?", "Mistä kunta voi hakea rahoitusta ilmastotyöhön?",
                     "Mitkä ovat Laukaan suurimmat päästölähteet?"):
        assert len(answerer.answer(question).answer.split()) <= 180


def test_a_question_naming_its_own_topic_is_no_follow_up_and_follow_ups_chain():
    history = [("Mitkä ovat Jyväskylän suurimmat päästölähteet?", "…"), ("Entä Laukaassa?", "…")]
    assert standalone_question("Mikä on Hinku-verkosto?", history) == "Mikä on Hinku-verkosto?"
    assert standalone_question("Entä Jämsässä?", history) == "Mitkä ovat Jämsä suurimmat päästölähteet?"
    pointing_back = standalone_question("Kuka sitä hallinnoi?", [("Paljonko LUMOAVA-hankkeen budjetti on?", "…")])
    assert pointing_back.startswith("Kuka sitä hallinnoi") and "LUMOAVA" in pointing_back  # its own question first
