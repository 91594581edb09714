"""Question analysis: what a Finnish question asks for, under which constraints, and in how many parts.

The extractive answer needs to know more than the question's words: an amount question is answered by a sentence
with a number, a time question by one with a date, a question naming a year by a sentence of that year, and a
question for a person's phone number is not answered at all. Finnish puts the asked-for thing in the question
word (paljonko, milloin, kuka, …), so most of this is read from the first words of each part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.finnish import lemmas, words
from bot.municipalities import find_municipalities

Kind = Literal["amount", "time", "who", "list", "reason", "yesno", "definition", "other"]
Unit = Literal["money", "share", "energy"]

# Question words and phrases -> kind, tried in this order on the start of a part (lower case, whole words).
_KIND_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("amount", r"\b(kum\w+\b.{0,60}\b(enemmän|vähemmän|suurem\w*|pienem\w*|isom\w*|kovem\w*|korkeam\w*|"
                   r"matalam\w*|suurempi|pienempi|isompi|kovempi)|paljonko|moniko|kuinka moni\w*|montako|"
                   r"millä hinnalla|mihin hintaan|minkä hintai\w*|kuinka (paljon|monta|suur\w*|iso\w*|pal\w*)|"
                   r"miten (paljon|suur\w*)|"
                   r"minkä (verran|suuruinen|suuruis\w*|kokoinen)|"
                   r"mikä (on|oli) .{0,80}(osuus|määrä|budjetti|summa|luku|tavoite|prosentti|hinta|jalanjälki|"
                   r"päästöt|palkka|enimmäis\w*)|mitkä ovat .{0,40}(päästöt|luvut|määrät)|"
                   r"mitä .{0,80}\bmaks(aa|oi|avat|oivat|ettiin|etaan))\b"),
        ("time", r"\b(milloin|mihin mennessä|minä (vuonna|päivänä|päivinä|kuukautena)|mistä (lähtien|alkaen)|mihin asti|koska (\w+)?(hyväksyttiin|"
                 r"alkoi|alkaa|päättyi|päättyy|tuli)|miten pitkään|kauanko|mikä on .{0,30}\b(aikataulu|määräaika|"
                 r"takaraja))\b"),
        ("who", r"\b(kuka|ketkä|kenelle|keneltä|kenen|keneen|kehen|keitä|mikä taho|mitkä tahot|mikä organisaatio|"
                r"mikä (virasto|ministeriö|yhtiö|yritys)|kenen puoleen|keneen ottaa)\b"),
        ("definition", r"^\s*(mikä|mitä) (on|ovat|tarkoittaa|tarkoitetaan|tarkoittavat)\b(?!.*\b(kunta|kunnan|"
                       r"kunnalla|kunnassa)\b)|^\s*mitä\b.{1,60}\btarkoit\w*\s*$"),
        ("reason", r"\b(miksi|miten|millä (keinoin|tavoin|tavalla|keinoilla)|kuinka|mitä keinoja|millaisin|"
                   r"mihin perustuu)\b"),
        ("list", r"\b(mitkä|mitä|millaisia|millaiset|mistä|missä|mihin|luettele|mainitse)\b"),
        ("yesno", r"^\s*\w+(ko|kö)\b"),
    )
)
# "kuinka suuri osuus": the adjective belongs to the question word, not to the topic.
_ASKING_PHRASE = re.compile(r"\b(kuinka|miten|minkä)\s+(suur\w*|iso\w*|pal\w*|monta|moni\w*|pitkä\w*|kauan)(\s+osa)?\b",
                            re.I)
# In "Kumpi on suurempi, Jämsä vai Viitasaari?" the comparative says how to compare, not what about.
_COMPARING = re.compile(r"\bkum(pi|man|massa|malla|mpaa|mat)\b", re.I)
_COMPARATIVE = re.compile(r"\b\w+(mpi|mman|mmalla|mmassa|mpaa|mmat|mpia)\b", re.I)
# "Miten X ja Y eroavat toisistaan?": the words say that two things are compared, not what about.
_DIFFERING = re.compile(r"\b(ero\w*|poikkea\w*)\s+toisistaan\b|\b(toisiinsa|toisistaan|verrattuna)\b", re.I)
# "suurimmat päästölähteet": the superlative ranks what is asked; the answer need not repeat it.
_SUPERLATIVE = re.compile(r"\b(suurim\w*|suurin|tärkeim\w*|tärkein|merkittävim\w*|merkittävin|isoim\w*|isoin|"
                          r"parhaa\w*|paras)\b", re.I)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d{2}|21\d{2})\b")
_PART_SPLIT = re.compile(
    r"\?\s+(?=\S)|[,;]?\s+(?:ja|sekä|entä|mutta)\s+(?=(?:mitä|mitkä|mikä|miten|milloin|kuka|ketkä|paljonko|montako|"
    r"kuinka|onko|ovatko|missä|mistä|mihin|miksi|kenelle|keneltä)\b)",
    re.I,
)
# What an amount is measured in, when the question's words say it: a sum of money wants euros, a share per
# cents, electricity or energy watt-hours. A number in another unit does not answer it.
_UNIT_WORDS: tuple[tuple[Unit, re.Pattern[str]], ...] = (
    ("money", re.compile(r"\b(euro\w*|raha\w*|budjet\w*|hinna\w*|hinta\w*|maks[aeou]\w*|kustannu\w*|rahoitu\w*|"
                         r"palk(ka|an|oi)\w*)", re.I)),
    ("share", re.compile(r"\b(osuu\w*|prosent\w*|kuinka suuri osa|mikä osa)\b", re.I)),
    ("energy", re.compile(r"\b(\w*wattitun\w*|sähköä|energiaa)\b", re.I)),
)
# Words that only restate the unit or the place: "paljonko rahaa" is answered in euros, "Petäjäveden kunta" by
# Petäjävesi's own material, so a sentence need not repeat them.
_UNIT_LEMMAS: dict[str, frozenset[str]] = {
    "money": frozenset({"raha", "euro", "hinta", "rahamäärä", "summa"}),
    "share": frozenset({"osuus", "prosentti", "osa"}),
    "energy": frozenset({"megawattitunti", "gigawattitunti", "kilowattitunti"}),
}
_PLACE_LEMMAS = frozenset({"kunta", "kaupunki"})
# "Montako tuulivoimalaa…": the word after the count word names what is counted, and a number of something
# else ("454 vastausta" for a count of turbines) does not answer. People are counted in many words, and a
# number word or a unit says how, not what.
_COUNT = re.compile(r"\b(?:montako|moniko|kuinka (?:monta|moni))\b(?:\s+([\w-]+))?", re.I)
_GENERIC_COUNTS = frozenset({"ihminen", "henkilö", "henki", "kappale", "kerta", "miljoona", "miljardi", "tuhat",
                             "sata"})
# Asking for a person's private contact details or identity numbers: never answered from documents.
_PERSONAL = re.compile(
    r"\b(puhelinnumero\w*|puh\.?numero\w*|kännykkä\w*|matkapuhelin\w*|gsm\w*|sähköpostiosoit\w*|"
    r"kotiosoit\w*|henkilötunnu\w*|hetu|syntymäaika\w*|osoitetie\w*|yksityis(?:puhelin|numero|osoit|sähköpost)\w*)\b",
    re.I,
)
# "Missä Pauli Rintala asuu?": where a named person lives (a name is in the nominative, a place is not).
_HOME = re.compile(r"\b[A-ZÅÄÖ][a-zåäö]+ [A-ZÅÄÖ][a-zåäö]+(?<!ss[aä])(?<!ll[aä]) asu(u|i|vat)\b")
# Words of the question that say how it is asked, not what about: they never need evidence of their own.
QUESTION_LEMMAS = frozenset(
    """mikä mitä mitkä kuka ketkä kenelle keneltä kenen milloin miksi miten kuinka paljonko montako paljon monta
    moni onko ovatko voida voi saada saa pitää tarvita kertoa kerro selittää selitä luetella luettele mainita mainitse
    tietää tiedetään haluta haluaisin olla ole asia tieto osata millainen minkä verran kaikki kaikkea me meidän
    meillä meille meiltä meitä teidän te sinä sä mä minä mun mulle kiinnostaa kysyä kysymys vastaus
    entä entäs no juuri tarkka tarkasti lyhyesti jotain jokin mitään vuosi vuode mennessä aikoa verrata vertaa
    vertailla tulla kumpi kumma kumman kummassa vai enemmän vähemmän meno menossa päin tekeillä suhde suhteen
    tarkoittaa tarkoitus""".split()
)


@dataclass(frozen=True)
class QuestionPart:
    """One thing asked: its text, kind and the lemmas that must find evidence."""

    text: str
    kind: Kind
    terms: frozenset[str]
    years: frozenset[str]
    unit: Unit | None = None  # for an amount, what it is measured in when the question says so
    counted: str | None = None  # for a count, the lemma of what it counts ("tuulivoimala")


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    parts: tuple[QuestionPart, ...]
    municipalities: tuple[str, ...]
    years: frozenset[str]
    personal_data: bool
    terms: frozenset[str] = field(default_factory=frozenset)
    names: frozenset[str] = field(default_factory=frozenset)  # lemmas of the names it uses (capitalised, hyphenated)

    @property
    def kind(self) -> Kind:
        return self.parts[0].kind if self.parts else "other"


def question_kind(text: str) -> Kind:
    """The kind of one part, from its first question word (patterns in order break a tie). "Mikä on X?" asks
    for a definition unless X belongs to a municipality: then it asks for that municipality's X."""
    lower = " ".join(words(text.lower()))
    found = []
    for order, (kind, pattern) in enumerate(_KIND_PATTERNS):
        match = pattern.search(lower)
        if match and not (kind == "definition" and find_municipalities(text)):
            found.append((match.start(), order, kind))
    return min(found)[2] if found else "other"


def content_terms(text: str) -> frozenset[str]:
    """Lemmas that carry the topic: no stopwords, question words or municipality names (retrieval's job)."""
    text = _DIFFERING.sub(" ", _SUPERLATIVE.sub(" ", _ASKING_PHRASE.sub(" ", text)))
    if _COMPARING.search(text):
        text = _COMPARATIVE.sub(" ", text)
    return frozenset(
        lemma for lemma in lemmas(text) if lemma not in QUESTION_LEMMAS and not find_municipalities(lemma)
        and not lemma.isdigit() and len(lemma) > 1  # "80 %:n" leaves a lone "n"
    )


def split_parts(question: str) -> list[str]:
    """The separately asked parts: "Milloin X hyväksyttiin ja kuka sen hyväksyi?" has two."""
    parts = [p.strip(" ?!.,") for p in _PART_SPLIT.split(question)]
    return [p for p in parts if len(words(p)) >= 1] or [question]


def analyze(question: str) -> QuestionAnalysis:
    """Kind, parts, municipalities, years and the personal-data flag of a question."""
    municipalities = tuple(find_municipalities(question))
    parts = []
    for text in split_parts(question):
        kind = question_kind(text)
        unit = amount_unit(text) if kind == "amount" else None
        restated = _UNIT_LEMMAS.get(unit, frozenset()) | (_PLACE_LEMMAS if municipalities else frozenset())
        terms = content_terms(text) - restated
        counted = counted_term(text, terms) if kind == "amount" else None
        parts.append(QuestionPart(text, kind, terms, frozenset(_YEAR.findall(text)), unit, counted))
    return QuestionAnalysis(
        text=question,
        parts=tuple(parts),
        municipalities=municipalities,
        years=frozenset(_YEAR.findall(question)),
        personal_data=bool(_PERSONAL.search(question) or _HOME.search(question)),
        terms=content_terms(question),
        names=name_terms(question),
    )


def amount_unit(text: str) -> Unit | None:
    """The unit the amount asked for is in; for a count only when it counts the unit ("Kuinka monta
    prosenttia…"), not what it counts ("Montako hanketta sai rahoitusta?")."""
    counting = _COUNT.search(text)
    if counting:
        counted = _counted_lemma(counting)
        return next((unit for unit, names in _UNIT_LEMMAS.items() if counted in names), None)
    return next((unit for unit, pattern in _UNIT_WORDS if pattern.search(text)), None)


def counted_term(text: str, terms: frozenset[str]) -> str | None:
    """What a count question counts, when that is one of its terms and not a unit or a word for people."""
    counting = _COUNT.search(text)
    counted = _counted_lemma(counting) if counting else None
    return counted if counted in terms and counted not in _GENERIC_COUNTS else None


def _counted_lemma(counting: re.Match[str]) -> str | None:
    """The lemma of the word after the count word, if any."""
    word = counting.group(1)
    return next(iter(lemmas(word, drop_stopwords=False)), None) if word else None


def name_terms(question: str) -> frozenset[str]:
    """Lemmas of the words written as names: capitalised after the first word, or hyphenated compounds
    ("Ilmastoseteli-avustusta"). A name the material never uses means the material does not cover it."""
    tokens = words(question)
    named = [w for i, w in enumerate(tokens) if "-" in w or (i > 0 and w[:1].isupper())]
    return frozenset(lemmas(" ".join(named))) & content_terms(question)


def years_in(text: str) -> frozenset[str]:
    return frozenset(_YEAR.findall(text))
