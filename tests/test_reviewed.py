"""Reviewed answers: given to the same and closely similar questions until withdrawn; superseded documents."""

from datetime import date

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot.embeddings import base_embeddings
from bot.questionmatch import QuestionMatcher
from bot.reviewed import ReviewedAnswers, ReviewedCitation, SupersededDocuments
from bot.service import BotService
from bot.settings import Settings
from tests.conftest import make_settings
from tests.services_postgres import database_url, postgres_server  # noqa: F401 (fixtures)
from tests.test_questionlog import FakeAnswerer

# Paraphrases a reviewed answer must reach, and questions it must not, measured with multilingual-e5-small.
MUST_MATCH = [
    ("Mistä saamme rahoitusta?", "mistä kunta voi hakea rahoitusta"),
    ("Mikä on Hinku-verkosto?", "Mitä Hinku-verkosto tarkoittaa?"),
    ("Mitkä ovat Laukaan suurimmat päästölähteet?", "Mistä Laukaan päästöt pääosin tulevat?"),
    ("Mitä kunta voi tehdä liikenteen päästöjen vähentämiseksi?", "Miten kunta voi vähentää liikenteen päästöjä?"),
    ("Miten ilmastotyö kannattaa organisoida kunnassa?", "Miten kunnan ilmastotyö organisoidaan?"),
    ("Mikä on ilmastosuunnitelma?", "mitä ilmastosuunnitelma tarkoittaa"),
    ("Kuka vastaa kunnan ilmastotyöstä?", "Kenen vastuulla ilmastotyö kunnassa on?"),
    ("Mistä löydän kunnan päästötiedot?", "Mistä saa tiedot kunnan päästöistä?"),
    ("Mitä on ilmastoriskien arviointi?", "Miten ilmastoriskejä arvioidaan?"),
    ("Mitä hyötyä kunnalle on ilmastotyöstä?", "Miksi kunnan kannattaa tehdä ilmastotyötä?"),
    ("Mitkä ovat Jyväskylän päästötavoitteet?", "Mihin päästötavoitteisiin Jyväskylä on sitoutunut?"),
    ("Milloin ympäristöministeriön avustushaku on auki?", "Milloin ympäristöministeriön avustuksia voi hakea?"),
    ("Mitä ilmastolaki vaatii kunnalta", "Mitä  ilmastolaki vaatii kunnalta?"),
    ("Miten kunta voi vähentää energiankulutusta?", "Keinoja kunnan energiankulutuksen vähentämiseen?"),
    ("Mitä ilmastolaki vaatii kunnalta?", "Mitä velvoitteita ilmastolaki asettaa kunnille?"),
    ("Miten asukkaat voi ottaa mukaan ilmastotyöhön?", "Miten kuntalaiset saadaan osallistumaan ilmastotyöhön?"),
]
MUST_NOT_MATCH = [
    ("Mitkä ovat Laukaan suurimmat päästölähteet?", "Mitkä ovat Joutsan suurimmat päästölähteet?"),
    ("Onko Joutsa Hinku-kunta?", "Onko Laukaa Hinku-kunta?"),
    ("Paljonko päästöt olivat vuonna 2021?", "Paljonko päästöt olivat vuonna 2022?"),
    ("Mitkä olivat Äänekosken päästöt 2019?", "Mitkä olivat Äänekosken päästöt 2020?"),
    ("Mistä saamme rahoitusta?", "Mitä ilmastolaki vaatii kunnalta?"),
    ("Mistä saamme rahoitusta?", "Mistä saamme lisää henkilöstöä?"),
    ("Mikä on Hinku-verkosto?", "Mikä on Kuntien ilmastokampanja?"),
    ("Mikä on ilmastosuunnitelma?", "Mikä on ilmastoriskien arviointi?"),
    ("Mitä on hiilinielu?", "Mitä on hiilijalanjälki?"),
    ("Kuka vastaa kunnan ilmastotyöstä?", "Kuka vastaa kunnan jätehuollosta?"),
]
# Where the embedding is not enough (recorded so that a better matcher shows up as a change here): the same
# sentence with one topic word swapped is as close as a paraphrase with few shared words.
TOO_SIMILAR = [
    ("Mitä ilmastolaki vaatii kunnalta?", "Mitä jätelaki vaatii kunnalta?"),
    ("Mitkä ovat Jyväskylän päästötavoitteet?", "Mitkä ovat Jyväskylän päästöt?"),
    ("Miten kunta voi vähentää liikenteen päästöjä?", "Miten kunta voi vähentää maatalouden päästöjä?"),
    ("Miten ilmastotyö kannattaa organisoida kunnassa?", "Miten ilmastotyötä rahoitetaan kunnassa?"),
]


@pytest.fixture(scope="module")
def real_matcher() -> QuestionMatcher:
    return QuestionMatcher(base_embeddings(Settings()))


@pytest.mark.slow
def test_the_threshold_separates_paraphrases_from_other_questions(real_matcher):
    assert [pair for pair in MUST_MATCH if not real_matcher.same_question(*pair)] == []
    assert [pair for pair in MUST_NOT_MATCH if real_matcher.same_question(*pair)] == []
    assert [real_matcher.same_question(*pair) for pair in TOO_SIMILAR] == [True] * len(TOO_SIMILAR)


class WordEmbeddings(Embeddings):
    """A stand-in model: a question's vector counts the first five letters of its words, so only near-equal
    wordings match ("Laukaan" and "Laukaa" are the same word to it)."""

    def embed_query(self, text: str) -> list[float]:
        vector = np.zeros(256)
        for word in text.lower().strip("?").split():
            vector[hash(word.strip("?,.")[:5]) % 256] += 1
        return vector.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


FUNDING = "Mistä saamme rahoitusta?"
SOURCE = ReviewedCitation(doc_id="rahoitus.md", title="Rahoitus", quote="Ympäristöministeriö myöntää avustuksia.",
                          page=2, source_url="https://ym.fi/avustukset")


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url)


@pytest.fixture
def service(settings, monkeypatch) -> BotService:
    monkeypatch.setattr("bot.service.Answerer", FakeAnswerer)
    service = BotService(settings, ingest_on_start=False)
    service.reviewed._matcher = QuestionMatcher(WordEmbeddings())
    return service


def review(service: BotService, question: str = FUNDING, municipality: str | None = None) -> int:
    return service.reviewed.add(question, "Ympäristöministeriö myöntää avustuksia [1].", [SOURCE],
                                municipality=municipality, reviewed_on=date(2026, 11, 30))


def test_a_reviewed_answer_is_given_with_its_date_and_citations_and_logged(service):
    review(service)
    answer = service.answer("mistä saamme rahoitusta")
    assert answer.answer == "Ympäristöministeriö myöntää avustuksia [1]."
    assert answer.notices == ["Tarkistettu vastaus (30.11.2026)"]
    assert answer.outcome == "answered"
    assert [(c.n, c.doc_id, c.page, c.source_url, c.quote) for c in answer.citations] == [
        (1, "rahoitus.md", 2, "https://ym.fi/avustukset", "Ympäristöministeriö myöntää avustuksia.")]
    [logged] = service.question_log.rows()
    assert (logged.outcome, logged.doc_ids) == ("answered", ["rahoitus.md"])


def test_other_questions_go_to_the_answer_engine(service):
    review(service)
    assert service.answer("Mitkä ovat Laukaan päästöt?").answer == "Tieliikenne [1]. Avustuksia [2]."


def test_a_withdrawn_answer_is_no_longer_given_but_stays_listed(service):
    reviewed_id = review(service)
    assert service.reviewed.withdraw(reviewed_id)
    assert not service.reviewed.withdraw(reviewed_id)
    assert service.answer(FUNDING).notices == []
    [listed] = service.reviewed.all()
    assert listed.withdrawn_at is not None and service.reviewed.all(include_withdrawn=False) == []


@pytest.mark.parametrize("reviewed_for, asked, chosen, given", [
    ("Mitkä ovat Laukaan päästöt?", "Mitkä ovat Laukaan päästöt?", None, True),
    ("Mitkä ovat Laukaan päästöt?", "Mitkä ovat Joutsan päästöt?", None, False),
    ("Mitkä ovat Laukaan päästöt?", "Mitkä ovat Laukaan päästöt?", "Joutsa", True),  # the question names it
    ("Mitkä ovat päästöt?", "Mitkä ovat päästöt?", "Laukaa", True),  # region-wide fits every municipality
    ("Mitkä ovat päästöt?", "Mitkä ovat Laukaan päästöt?", None, False),
    ("Mitkä ovat päästöt vuonna 2021?", "Mitkä ovat päästöt vuonna 2022?", None, False),
])
def test_a_reviewed_answer_reaches_only_questions_about_the_same_place_and_year(service, reviewed_for, asked,
                                                                                  chosen, given):
    review(service, reviewed_for)
    assert bool(service.answer(asked, municipality=chosen).notices) is given


def test_a_municipalitys_reviewed_answer_is_given_only_where_that_municipality_is_chosen(service):
    review(service, "Mitkä ovat kunnan päästöt?", municipality="Laukaa")
    assert service.answer("Mitkä ovat kunnan päästöt?", municipality="Laukaa").notices
    assert not service.answer("Mitkä ovat kunnan päästöt?", municipality="Joutsa").notices
    assert not service.answer("Mitkä ovat kunnan päästöt?").notices


def test_a_follow_up_is_matched_as_the_question_it_stands_for(service):
    review(service, "Mitkä ovat Laukaan päästöt?")
    history = [("Mitkä ovat Joutsan päästöt?", "Joutsan päästöt…")]
    assert service.answer("Entä Laukaan?", history=history).notices == ["Tarkistettu vastaus (30.11.2026)"]


def test_without_reviewed_answers_no_question_is_embedded_for_them(settings, monkeypatch):
    monkeypatch.setattr("bot.service.Answerer", FakeAnswerer)
    service = BotService(settings, ingest_on_start=False)
    service.answer(FUNDING)
    assert service.reviewed._matcher is None


@pytest.mark.parametrize("question, answer, citations", [
    ("", "Vastaus [1].", [SOURCE]),
    (FUNDING, "  ", [SOURCE]),
    (FUNDING, "Vastaus.", []),
    (FUNDING, "Vastaus [1].", [ReviewedCitation(doc_id="rahoitus.md", title="Rahoitus", quote=" ")]),
    (FUNDING, "Vastaus [1].", [ReviewedCitation(doc_id="a.md", title="A", quote="B", source_url="javascript:alert(1)")]),
])
def test_an_unusable_reviewed_answer_is_refused_in_finnish(settings, question, answer, citations):
    with pytest.raises(ValueError, match="tarvit|pitää alkaa"):
        ReviewedAnswers(settings).add(question, answer, citations)


def test_documents_are_marked_superseded_and_back(settings):
    superseded = SupersededDocuments(settings)
    superseded.mark("ilmastotietopaketti/osa1.pdf")
    superseded.mark("ilmastotietopaketti/osa1.pdf")
    superseded.mark("kunnat/laukaa.md")
    superseded.unmark("kunnat/laukaa.md")
    assert SupersededDocuments(settings).superseded_doc_ids() == {"ilmastotietopaketti/osa1.pdf"}


def test_a_question_sharing_no_word_with_any_reviewed_one_is_not_embedded(service):
    review(service)
    embedded = []
    service.reviewed.matcher.embeddings.embed_query = lambda text: embedded.append(text) or [1.0]
    service.answer("Onko Joutsa Hinku-kunta?")
    assert embedded == []
