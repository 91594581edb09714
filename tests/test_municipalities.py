import pytest

from bot.municipalities import MUNICIPALITIES, find_municipalities, find_municipality, normalize_municipality

# Three or more inflected forms of every municipality of Central Finland, as people write them.
FORMS = {
    "Hankasalmi": ["Hankasalmen", "Hankasalmella", "Hankasalmelle", "Hankasalmelta"],
    "Joutsa": ["Joutsan", "Joutsassa", "Joutsaan", "Joutsasta"],
    "Jyväskylä": ["Jyväskylän", "Jyväskylässä", "Jyväskylään", "Jyväskylästä"],
    "Jämsä": ["Jämsän", "Jämsässä", "Jämsään", "Jämsästä"],
    "Kannonkoski": ["Kannonkosken", "Kannonkoskella", "Kannonkoskelta", "Kannonkoskelle"],
    "Karstula": ["Karstulan", "Karstulassa", "Karstulaan", "Karstulasta"],
    "Keuruu": ["Keuruun", "Keuruulla", "Keuruulle", "Keuruulta"],
    "Kinnula": ["Kinnulan", "Kinnulassa", "Kinnulaan", "Kinnulasta"],
    "Kivijärvi": ["Kivijärven", "Kivijärvellä", "Kivijärvelle", "Kivijärveltä"],
    "Konnevesi": ["Konneveden", "Konnevedellä", "Konnevedelle", "Konnevedeltä"],
    "Kyyjärvi": ["Kyyjärven", "Kyyjärvellä", "Kyyjärvelle", "Kyyjärveltä"],
    "Laukaa": ["Laukaan", "Laukaassa", "Laukaaseen", "Laukaasta"],
    "Luhanka": ["Luhangan", "Luhangassa", "Luhankaan", "Luhangasta"],
    "Multia": ["Multian", "Multialla", "Multialle", "Multialta"],
    "Muurame": ["Muuramen", "Muuramessa", "Muurameen", "Muuramesta"],
    "Petäjävesi": ["Petäjäveden", "Petäjävedellä", "Petäjävedelle", "Petäjävedeltä"],
    "Pihtipudas": ["Pihtiputaan", "Pihtiputaalla", "Pihtiputaalle", "Pihtiputaalta"],
    "Saarijärvi": ["Saarijärven", "Saarijärvellä", "Saarijärvelle", "Saarijärveltä"],
    "Toivakka": ["Toivakan", "Toivakassa", "Toivakkaan", "Toivakasta"],
    "Uurainen": ["Uuraisten", "Uuraisilla", "Uuraisille", "Uuraisilta"],
    "Viitasaari": ["Viitasaaren", "Viitasaarella", "Viitasaarelle", "Viitasaarelta"],
    "Äänekoski": ["Äänekosken", "Äänekoskella", "Äänekoskelle", "Äänekoskelta"],
}


def test_every_municipality_has_forms():
    assert set(FORMS) == set(MUNICIPALITIES)
    assert len(MUNICIPALITIES) == 22


@pytest.mark.parametrize("name, form", [(name, form) for name, forms in FORMS.items() for form in [name, *forms]])
def test_inflected_form_in_a_question_is_recognised(name, form):
    assert find_municipality(f"Mitkä ovat {form} suurimmat päästölähteet?") == name
    assert find_municipality(form.lower()) == name


def test_no_municipality_in_general_questions():
    for question in [
        "Mitä ilmastolaki vaatii kunnalta?",
        "Mistä saamme rahoitusta?",
        "Mikä on Keski-Suomen tiekartan tavoite?",
        "Laukaisu ja multiaalinen jämsäys",  # nonsense close to names is not a name
    ]:
        assert find_municipality(question) is None, question


def test_several_municipalities_in_order_of_mention():
    assert find_municipalities("Vertaa Jyväskylän ja Laukaan päästöjä; entä Äänekoskella?") == ["Jyväskylä", "Laukaa", "Äänekoski"]


def test_normalize_accepts_basic_form_any_case():
    assert normalize_municipality("äänekoski") == "Äänekoski"
    assert normalize_municipality("Tampere") is None
    assert normalize_municipality(None) is None


@pytest.mark.parametrize("word, name", [
    ("kinnulalaisen", "Kinnula"), ("saarijärveläisistä", "Saarijärvi"), ("uuraislaisista", "Uurainen"),
    ("jyväskyläläisille", "Jyväskylä"), ("laukaalaiset", "Laukaa"),
])
def test_the_inhabitants_word_names_the_municipality_in_any_case(word, name):
    assert find_municipalities(f"Mikä on {word} hiilijalanjälki?") == [name]
