from bot.finnish import CompoundSplitter, lemma, lemmas, split_sentences


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


def test_compound_cut_short_by_the_lemmatizer_is_rebuilt():
    assert lemma("ilmastolain") == "ilmastolaki"
    assert lemma("ilmastolaki") == "ilmastolaki"


def test_stopwords_are_dropped():
    assert "ja" not in lemmas("kunta ja maakunta")


def test_compound_splitter_adds_known_head_and_modifier():
    splitter = CompoundSplitter(["päästö", "kasvihuonekaasu", "kunta"])
    assert splitter.parts("kasvihuonekaasupäästö") == ["päästö", "kasvihuonekaasu"]
    assert splitter.expand(["kasvihuonekaasupäästö"]) == ["kasvihuonekaasupäästö", "päästö", "kasvihuonekaasu"]
    assert splitter.parts("kunta") == []


def test_questions_do_not_wait_for_the_dictionary_but_ingest_does(monkeypatch):
    import threading

    import bot.finnish as finnish

    monkeypatch.setattr(finnish, "_deferring", True)
    monkeypatch.setattr(finnish, "_DICTIONARY_READY", threading.Event())  # still loading
    monkeypatch.setattr(finnish, "_LEMMA_TABLE", {"kunnalta": "kunta"})
    assert finnish.lemma("kunnalta") == "kunta"  # the material's own words come from the table
    assert finnish.lemma("vaatii") == "vaatii"  # an unseen word is taken as it is, for now
    assert finnish.lemma("vaatii", exact=True) == "vaatia"  # ingest never settles for that
    finnish._DICTIONARY_READY.set()
    assert finnish.lemma("vaatii") == "vaatia"
