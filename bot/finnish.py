"""Finnish text tools shared by ingest and answering: sentence splitting, word tokens and lemmas.

Finnish is heavily inflected and compounding ("kasvihuonekaasupäästöt"), so lexical search works on lemmas, and
optionally on the heads of compounds, rather than on surface forms.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Iterable

from bot.lemmatizers import MIN_PART, Lemmatizer, make_lemmatizer
from bot.settings import load_settings

# Abbreviations after which a full stop does not end a sentence (lower case, without the stop).
ABBREVIATIONS = frozenset(
    """esim mm n ns milj mrd jne yms ym ks vrt tms ts eli os nro kpl s v vv klo tri prof ed huom vs ko
    em yl ao jäs pj vpj puh p t lk mk kok alk suom engl sis mt ma ti ke to pe la su tammik helmik
    maalisk huhtik toukok kesäk heinäk elok syysk lokak marrask jouluk""".split()
)
# Words after which a number and a stop form an ordinal heading ("Osa 1. Päästöt"), not a sentence end.
ORDINAL_CONTEXT = frozenset({"osa", "osan", "luku", "luvun", "kohta", "kohdan", "§", "pykälä", "liite", "vaihe", "sivu"})

_BOUNDARY = re.compile(r"[.!?…]+[\"'”»)]*\s+(?=[\"'“«(]?[A-ZÅÄÖ0-9])")
_WORD = re.compile(r"[0-9A-Za-zÅÄÖåäöÉéÜüŠšŽž]+(?:[-:][0-9A-Za-zÅÄÖåäöÉéÜüŠšŽž]+)*")
STOPWORDS = frozenset(
    """ja tai on ovat oli olivat ei eivät se ne sen niiden joka jotka mikä mitkä mitä mitä miten miksi kuka
    kun kuin että jos myös sekä mutta vaan eli tämä tämän nämä tuo ja ole olla voi voida kanssa mukaan
    jo vain vielä noin yli alle sitä sille siitä siinä siihen hän me te he minä sinä meidän teidän
    niin kuten koska vaikka sitten nyt kaikki muu muut usea paljon paljonko kuinka onko ovatko
    mikä mitkä millainen millaisia missä mistä mihin milloin""".split()
)


def split_sentences(text: str) -> list[str]:
    """Split Finnish text into sentences without breaking at abbreviations, dates or ordinals."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_false_boundary(text[start : match.start() + 1]):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_false_boundary(candidate: str) -> bool:
    """True when the stop ending ``candidate`` belongs to an abbreviation or an ordinal, not a sentence end."""
    if not candidate.endswith("."):
        return False
    words = candidate[:-1].split()
    if not words:
        return True
    last = words[-1].lower().lstrip("(\"'")
    if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
        return True
    if last.isdigit() and len(last) <= 3:
        before = words[-2].lower() if len(words) > 1 else ""
        return before in ORDINAL_CONTEXT or len(words) == 1
    return False


def words(text: str) -> list[str]:
    """Word tokens, keeping numbers and hyphenated compounds ("CO2-päästöt") as one token."""
    return _WORD.findall(text)


# Lemmas of the words of the material, saved with the lexical index: a question's words are nearly always words
# of the material, so they are lemmatised exactly as the index was, and simplemma's dictionary (seconds to load)
# is rarely needed. Their lemmas are also the readings a question's unseen word prefers.
_LEMMA_TABLE: dict[str, str] = {}
_KNOWN_LEMMAS: set[str] = set()
_lemmatizer: Lemmatizer | None = None
_choosing = threading.Lock()


def lemmatizer() -> Lemmatizer:
    """The lemmatiser in use: chosen by ILMASTO_LEMMATIZER on first use."""
    global _lemmatizer
    with _choosing:
        if _lemmatizer is None:
            _lemmatizer = make_lemmatizer(load_settings().lemmatizer)
        return _lemmatizer


def use_lemma_table(table: dict[str, str]) -> None:
    _LEMMA_TABLE.update(table)
    _KNOWN_LEMMAS.update(table.values())


def lemma_table(texts: Iterable[str]) -> dict[str, str]:
    """word -> lemma for every word of the texts."""
    return {word: lemma(word, exact=True) for text in texts for word in set(words(text.lower()))}


def load_dictionary_in_background() -> None:
    """Prepare the lemmatiser without making a question wait for it (simplemma's dictionary takes seconds).

    Until it is loaded, a word that the material does not contain is taken as it is: it could not match the
    lexical index anyway unless another form of it is in the material, and the dense ranking still sees it.
    """
    lemmatizer().load_in_background()


def lemma(word: str, exact: bool = False) -> str:
    """The Finnish lemma of one lower-cased word: from the material's table, else from the lemmatiser.

    ``exact`` (ingest) always waits for the dictionary and reads every word alike; a question does not wait,
    and its unseen words prefer readings that are lemmas of the material.
    """
    if word.isdigit():
        return word
    known = _LEMMA_TABLE.get(word)
    if known is not None:
        return known
    if exact:
        return lemmatizer().lemma(word)
    chosen = lemmatizer()
    return chosen.lemma(word, _KNOWN_LEMMAS) if chosen.ready() else word


def is_word(word: str) -> bool:
    """The lemmatiser knows the word: a real Finnish word is no typo of another ("asettanut" is not "asentanut").
    Unknown while the dictionary is still loading."""
    chosen = lemmatizer()
    return chosen.ready() and chosen.is_word(word)


def lemmas(text: str, drop_stopwords: bool = True, exact: bool = False) -> list[str]:
    """Lemmas of the words of ``text``, stopwords dropped unless asked to keep them."""
    out = []
    for word in words(text.lower()):
        if drop_stopwords and word in STOPWORDS:
            continue
        lem = lemma(word, exact)
        if drop_stopwords and lem in STOPWORDS:
            continue
        out.append(lem)
    return out


class CompoundSplitter:
    """Adds the parts of a compound lemma, so "päästö" also finds "kasvihuonekaasupäästö".

    Voikko splits at the boundaries its analysis gives. Otherwise (simplemma, or a word Voikko does not know)
    parts are looked up in a vocabulary of lemmas that occur on their own in the material, which keeps the
    splitter from inventing parts ("kunta" in "kuntalainen" is fine; random letter runs are not).
    """

    MIN_PART = MIN_PART

    def __init__(self, vocabulary: Iterable[str], analyser: Lemmatizer | None = None):
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= self.MIN_PART and w.isalpha())
        self.analyser = analyser or lemmatizer()
        # Every answer splits the same words of the material again; bounded, as users type new ones.
        self._cached_parts = lru_cache(maxsize=100_000)(self._parts)

    def parts(self, word: str) -> list[str]:
        """Head and modifier of ``word``, as the lemmatiser or else the vocabulary finds them, or nothing."""
        return list(self._cached_parts(word))

    def _parts(self, word: str) -> tuple[str, ...]:
        own = self.analyser.compound_parts(word)
        return tuple(own if own is not None else self.vocabulary_parts(word))

    def vocabulary_parts(self, word: str) -> list[str]:
        """The known head and modifier of ``word`` (longest known suffix first), or nothing."""
        if len(word) < 2 * self.MIN_PART or not word.isalpha():
            return []
        for cut in range(self.MIN_PART, len(word) - self.MIN_PART + 1):
            head, modifier = word[cut:], word[:cut]
            if head in self.vocabulary:
                found = [head]
                if modifier in self.vocabulary:
                    found.append(modifier)
                return found
        return []

    def expand(self, tokens: list[str]) -> list[str]:
        expanded = list(tokens)
        for token in tokens:
            expanded.extend(self.parts(token))
        return expanded
