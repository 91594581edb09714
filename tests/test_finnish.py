import pytest

import bot.finnish as finnish
import bot.lemmatizers as lemmatizers
from bot.finnish import CompoundSplitter, lemma, lemmas, split_sentences
from bot.lemmatizers import SimplemmaLemmatizer, make_lemmatizer, open_voikko
from bot.municipalities import MUNICIPALITIES, find_municipality
from bot.settings import load_settings

VOIKKO = open_voikko()
needs_voikko = pytest.mark.skipif(VOIKKO is None, reason="Voikko not installed (libvoikko1, voikko-fi)")


@pytest.fixture
def lemmatizer_in_use(monkeypatch):
    """Put a lemmatiser in use for one test, with an empty material table, and restore the old one after."""

    def use(chosen):
        monkeypatch.setattr(finnish, "_lemmatizer", chosen)
        monkeypatch.setattr(finnish, "_LEMMA_TABLE", {})
        monkeypatch.setattr(finnish, "_KNOWN_LEMMAS", set())
        return chosen

    return use


def test_abbreviations_do_not_end_a_sentence():
    text = "Kunta voi esim. vaihtaa öljylämmityksen. Päästöt laskivat n. 5 % ja mm. liikenne väheni. Hanke maksoi 2 milj. euroa jne. Loppu."
    assert split_sentences(text) == [
        "Kunta voi esim. vaihtaa öljylämmityksen.",
        "Päästöt laskivat n. 5 % ja mm. liikenne väheni.",
        "Hanke maksoi 2 milj. euroa jne. Loppu.",
    ]


def test_ns_abbreviation_and_capitalised_name_after_it():
    assert split_sentences("Kunta liittyi ns. Hinku-verkostoon. Se oli hyvä päätös.") == [
        "Kunta liittyi ns. Hinku-verkostoon.",
        "Se oli hyvä päätös.",
    ]


def test_dates_ordinals_and_sections_stay_inside_sentences():
    text = "Hanke alkoi 1.6.2022 ja päättyi 31.5.2023. Tietopaketin 3. osa käsittelee työkaluja. Ilmastolain § 16 koskee kuntia. Osa 1. Päästöt ja tavoitteet on ensimmäinen."
    assert split_sentences(text) == [
        "Hanke alkoi 1.6.2022 ja päättyi 31.5.2023.",
        "Tietopaketin 3. osa käsittelee työkaluja.",
        "Ilmastolain § 16 koskee kuntia.",
        "Osa 1. Päästöt ja tavoitteet on ensimmäinen.",
    ]


def test_question_and_exclamation_marks_end_sentences():
    assert split_sentences("Mitä kunta voi tehdä? Paljon! Aloitetaan.") == ["Mitä kunta voi tehdä?", "Paljon!", "Aloitetaan."]


def test_year_at_sentence_end_splits():
    assert split_sentences("Tiekartta hyväksyttiin vuonna 2022. Seuranta alkoi heti.") == [
        "Tiekartta hyväksyttiin vuonna 2022.",
        "Seuranta alkoi heti.",
    ]


def test_lemmas_of_inflected_forms_meet():
    assert lemma("kunnalta") == lemma("kuntien") == "kunta"
    assert lemmas("päästöjen") == lemmas("päästöt")


def test_simplemma_compound_cut_short_is_rebuilt():
    simple = SimplemmaLemmatizer()
    assert simple.lemma("ilmastolain") == "ilmastolaki"
    assert simple.lemma("ilmastolaki") == "ilmastolaki"


def test_stopwords_are_dropped():
    assert "ja" not in lemmas("kunta ja maakunta")


def test_vocabulary_splitter_adds_known_head_and_modifier():
    splitter = CompoundSplitter(["päästö", "kasvihuonekaasu", "kunta"], SimplemmaLemmatizer())
    assert splitter.parts("kasvihuonekaasupäästö") == ["päästö", "kasvihuonekaasu"]
    assert splitter.expand(["kasvihuonekaasupäästö"]) == ["kasvihuonekaasupäästö", "päästö", "kasvihuonekaasu"]
    assert splitter.parts("kunta") == []
    assert splitter.parts("kaukolämpöyhtiö") == []  # no part of it stands alone in this material


def test_questions_do_not_wait_for_simplemma_but_ingest_does(lemmatizer_in_use):
    simple = lemmatizer_in_use(SimplemmaLemmatizer())
    simple._deferring = True  # load_in_background() started, not finished
    finnish.use_lemma_table({"kunnalta": "kunta"})
    assert finnish.lemma("kunnalta") == "kunta"  # the material's own words come from the table
    assert finnish.lemma("vaatii") == "vaatii"  # an unseen word is taken as it is, for now
    assert finnish.lemma("vaatii", exact=True) == "vaatia"  # ingest never settles for that
    simple._loaded.set()
    assert finnish.lemma("vaatii") == "vaatia"


@needs_voikko
def test_voikko_lemmatises_compounds_whole(lemmatizer_in_use):
    lemmatizer_in_use(VOIKKO)
    assert lemma("ilmastolain") == "ilmastolaki"
    assert lemma("kaukolämpöyhtiön") == "kaukolämpöyhtiö"
    assert lemmas("Kasvihuonekaasupäästöjen vähentäminen") == ["kasvihuonekaasupäästö", "vähentää"]
    assert lemma("hinku-verkostoon") == "hinku-verkosto"  # unknown to Voikko: the last part inflects
    assert lemma("2035") == "2035" and lemma("xyzzyä") == "xyzzyä"  # numbers and unknown words as they are


@needs_voikko
def test_voikko_splits_compounds_at_its_boundaries(lemmatizer_in_use):
    splitter = CompoundSplitter([], lemmatizer_in_use(VOIKKO))  # no vocabulary needed
    assert splitter.parts("kaukolämpöyhtiö") == ["yhtiö", "kaukolämpö"]
    assert splitter.parts("ilmastonmuutos") == ["muutos", "ilmasto"]  # the modifier "ilmaston" lemmatised
    assert splitter.parts("co2-päästö") == ["päästö"]  # at the hyphen; "co2" is too short to add
    assert splitter.parts("jyväskylä") == [] and splitter.parts("viitasaari") == []  # place names stay whole
    assert splitter.parts("kunta") == []


@needs_voikko
def test_voikko_reads_ambiguous_words_sensibly(lemmatizer_in_use):
    lemmatizer_in_use(VOIKKO)
    assert lemma("tuulivoimaa", exact=True) == "tuulivoima"  # not tuuli + voi + maa
    assert lemma("vuosi", exact=True) == "vuosi" and lemma("tilanne", exact=True) == "tilanne"  # base forms
    assert lemma("teoilla", exact=True) == "teko"  # not the name Tea
    finnish.use_lemma_table({"vuonna": "vuosi"})
    assert lemma("vuoteen") == "vuosi"  # a question's word takes the reading the material has (not "vuode")


@pytest.mark.parametrize("chosen", ["voikko", "simplemma"])
def test_inflected_municipality_names_are_recognised_from_their_lemmas(lemmatizer_in_use, chosen):
    if chosen == "voikko" and VOIKKO is None:
        pytest.skip("Voikko not installed")
    lemmatizer_in_use(VOIKKO if chosen == "voikko" else SimplemmaLemmatizer())
    inflected = ["Hankasalmella", "Joutsassa", "Jyväskylän", "Jämsässä", "Kannonkoskella", "Karstulassa",
                 "Keuruulla", "Kinnulassa", "Kivijärvellä", "Konnevedellä", "Kyyjärvellä", "Laukaassa",
                 "Luhangassa", "Multiassa", "Muuramessa", "Petäjävedellä", "Pihtiputaalla", "Saarijärvellä",
                 "Toivakassa", "Uuraisilla", "Viitasaarella", "Äänekoskella"]
    assert [find_municipality(lemmas(word)[0]) for word in inflected] == list(MUNICIPALITIES)


def test_auto_falls_back_to_simplemma_without_voikko(monkeypatch):
    monkeypatch.setattr(lemmatizers, "libvoikko", None)  # binding not installed
    assert make_lemmatizer("auto").name == "simplemma"
    with pytest.raises(RuntimeError, match="libvoikko1 and voikko-fi"):
        make_lemmatizer("voikko")


def test_auto_falls_back_when_the_finnish_dictionary_is_missing(monkeypatch):
    class NoDictionary:
        VoikkoException = type("VoikkoException", (Exception,), {})

        def Voikko(self, language):
            raise self.VoikkoException("Initialization of Voikko failed: No valid dictionaries were found")

    monkeypatch.setattr(lemmatizers, "libvoikko", NoDictionary())
    assert make_lemmatizer("auto").name == "simplemma"


def test_lemmatizer_setting_chooses_and_rejects_unknown_values(monkeypatch, lemmatizer_in_use):
    assert load_settings(env={}).lemmatizer == "simplemma"
    monkeypatch.setenv("ILMASTO_LEMMATIZER", "auto")
    lemmatizer_in_use(None)  # not chosen yet: the setting decides on first use
    assert finnish.lemmatizer().name == ("voikko" if VOIKKO else "simplemma")
    with pytest.raises(ValueError, match="ILMASTO_LEMMATIZER"):
        make_lemmatizer("stanza")
