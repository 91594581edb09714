"""Finnish text tools shared by ingest and answering: sentence splitting, word tokens and lemmas.

Finnish is heavily inflected and compounding ("kasvihuonekaasupäästöt"), so lexical search works on lemmas, and
optionally on the heads of compounds, rather than on surface forms.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Iterable

import simplemma

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


# Lemmas of the words of the material, saved with the lexical index: loading simplemma's Finnish dictionary
# takes seconds, and a question's words are nearly always words of the material.
_LEMMA_TABLE: dict[str, str] = {}


def use_lemma_table(table: dict[str, str]) -> None:
    _LEMMA_TABLE.update(table)


def lemma_table(texts: Iterable[str]) -> dict[str, str]:
    """word -> lemma for every word of the texts."""
    return {word: lemma(word, exact=True) for text in texts for word in set(words(text.lower()))}


_DICTIONARY_READY = threading.Event()
_deferring = False


def load_dictionary_in_background() -> None:
    """Load the lemmatizer's dictionary (seconds of pure Python) without making a question wait for it.

    Until it is loaded, a word that the material does not contain is taken as it is: it could not match the
    lexical index anyway unless another form of it is in the material, and the dense ranking still sees it.
    """
    global _deferring
    _deferring = True

    def load() -> None:
        _dictionary_lemma("kunnalta")
        _DICTIONARY_READY.set()

    threading.Thread(target=load, name="load-lemmatizer", daemon=True).start()


def lemma(word: str, exact: bool = False) -> str:
    """The Finnish lemma of one lower-cased word: from the material's table, else from simplemma.

    ``exact`` (ingest) always waits for the dictionary; questions do not while it is loading.
    """
    if word.isdigit():
        return word
    known = _LEMMA_TABLE.get(word)
    if known is not None:
        return known
    if not exact and _deferring and not _DICTIONARY_READY.is_set():
        return word
    return _dictionary_lemma(word)


@lru_cache(maxsize=300_000)
def _dictionary_lemma(word: str) -> str:
    """simplemma's lemma, cached (the vocabulary of the material is small).

    simplemma sometimes cuts a compound to its first part ("ilmastolain" -> "ilmasto"); when the cut-off tail
    is itself a known word ("lain" -> "laki"), the compound is rebuilt ("ilmastolaki").
    """
    base = simplemma.lemmatize(word, lang="fi").lower()
    if word.startswith(base) and len(word) - len(base) >= 4:
        tail = simplemma.lemmatize(word[len(base) :], lang="fi").lower()
        if len(tail) >= 3 and simplemma.is_known(tail, lang="fi"):
            return base + tail
    return base


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
    """Adds the known parts of a compound lemma, so "päästö" also finds "kasvihuonekaasupäästö".

    Parts are looked up in a vocabulary of lemmas that occur on their own in the material, which keeps the
    splitter from inventing parts ("kunta" in "kuntalainen" is fine; random letter runs are not).
    """

    MIN_PART = 4

    def __init__(self, vocabulary: Iterable[str]):
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= self.MIN_PART and w.isalpha())

    def parts(self, word: str) -> list[str]:
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
