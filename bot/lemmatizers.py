"""The two Finnish lemmatisers behind bot.finnish, and the choice between them (ILMASTO_LEMMATIZER).

Voikko analyses a word by Finnish morphology: it lemmatises compounds whole ("ilmastolain" -> "ilmastolaki") and
tells where their parts meet ("kaukolämpö|yhtiö"). It needs Debian's libvoikko1 and voikko-fi, which a machine may
lack. simplemma is a pure-Python form -> lemma dictionary that is always there; compounds it does not know are cut
short or left as they are, and its dictionary takes seconds to load.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Collection, Protocol

import simplemma

try:
    import libvoikko
except ImportError:  # the binding is a dependency, but the app must run without it
    libvoikko = None

LEMMATIZERS = ("auto", "voikko", "simplemma")
# Voikko's word classes for names: a place name is not split into parts (Jyväskylä is not jyväs + kylä), and a
# person's name ("Toimi", "Tea") loses to a common word of the same spelling.
PLACE_NAME = "paikannimi"
PERSON_NAMES = frozenset({"etunimi", "sukunimi", "nimi"})
MIN_PART = 4  # shortest compound part worth adding: shorter ones ("tie", "työ") are too general


class Lemmatizer(Protocol):
    name: str

    def ready(self) -> bool:
        """True when a question can be lemmatised without waiting for a dictionary to load."""

    def load_in_background(self) -> None:
        """Start loading the dictionary, if that takes long, without blocking the caller."""

    def lemma(self, word: str, prefer: Collection[str] = ()) -> str:
        """The lemma of one lower-cased word; among equally good readings, one in ``prefer`` wins."""

    def compound_parts(self, lemma: str) -> list[str] | None:
        """Head and modifier of a compound lemma ([] for none), or None when this lemmatiser cannot tell."""

    def is_word(self, word: str) -> bool:
        """True when the word is a Finnish word or form the lemmatiser knows (so not a typo)."""


class SimplemmaLemmatizer:
    """simplemma's dictionary, with compounds it cut short rebuilt; it knows no compound boundaries."""

    name = "simplemma"

    def __init__(self) -> None:
        self._loaded = threading.Event()
        self._deferring = False

    def ready(self) -> bool:
        return self._loaded.is_set() or not self._deferring

    def load_in_background(self) -> None:
        """Load the dictionary (seconds of pure Python) in a thread; until then questions skip unseen words."""
        self._deferring = True

        def load() -> None:
            _simplemma_lemma("kunnalta")
            self._loaded.set()

        threading.Thread(target=load, name="load-lemmatizer", daemon=True).start()

    def lemma(self, word: str, prefer: Collection[str] = ()) -> str:
        return _simplemma_lemma(word)

    def compound_parts(self, lemma: str) -> list[str] | None:
        return None

    def is_word(self, word: str) -> bool:
        return simplemma.is_known(word, lang="fi")


@lru_cache(maxsize=300_000)
def _simplemma_lemma(word: str) -> str:
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


@dataclass(frozen=True)
class Reading:
    """One of Voikko's analyses of a word: its lemma, where compound parts meet, and whether it is a name."""

    lemma: str
    boundaries: tuple[int, ...]  # offsets into the word where a compound part starts (none for a simple word)
    word_class: str

    @classmethod
    def from_analysis(cls, analysis: dict[str, str]) -> "Reading":
        return cls(analysis["BASEFORM"].lower(), structure_boundaries(analysis.get("STRUCTURE", "")),
                   analysis.get("CLASS", ""))


def structure_boundaries(structure: str) -> tuple[int, ...]:
    """Offsets where compound parts start, from Voikko's STRUCTURE ("=ppppp=ppppp" -> (5,)).

    Every STRUCTURE letter stands for one letter of the word; "=" marks the start of a part.
    """
    boundaries, offset = [], 0
    for symbol in structure:
        if symbol == "=":
            if offset:
                boundaries.append(offset)
        else:
            offset += 1
    return tuple(boundaries)


class VoikkoLemmatizer:
    """Voikko's morphological analysis; ambiguous words take the simplest reading (see ``lemma``)."""

    name = "voikko"

    def __init__(self, voikko: "libvoikko.Voikko"):
        self._voikko = voikko
        self._lock = threading.Lock()  # one Voikko handle must not be used by two threads at once
        self.readings = lru_cache(maxsize=300_000)(self._readings)

    def ready(self) -> bool:
        return True

    def load_in_background(self) -> None:
        """Nothing to do: Voikko's dictionary loads in milliseconds when it is opened."""

    def _readings(self, word: str) -> tuple[Reading, ...]:
        with self._lock:
            analyses = self._voikko.analyze(word)
        return tuple(dict.fromkeys(Reading.from_analysis(a) for a in analyses))

    def lemma(self, word: str, prefer: Collection[str] = ()) -> str:
        """The lemma of the best reading; unknown words stay as they are, unknown hyphenated ones inflect at the end.

        Best: a lemma in ``prefer`` (the material's lemmas, for a question's unseen word), then the fewest compound
        parts ("tuulivoimaa" is tuulivoima, not tuuli + voi + maa), then not a person's name, then the word itself
        when it is a base form ("vuosi", not "vuotaa"), then Voikko's order.
        """
        readings = self.readings(word)
        if not readings:
            head, dash, last = word.rpartition("-")
            return head + dash + self.lemma(last, prefer) if dash and head and last else word
        best = min(range(len(readings)), key=lambda i: (
            readings[i].lemma not in prefer, len(readings[i].boundaries), readings[i].word_class in PERSON_NAMES,
            readings[i].lemma != word, i))
        return readings[best].lemma

    def compound_parts(self, lemma: str) -> list[str] | None:
        """Head and (lemmatised) modifier at the last STRUCTURE boundary: "kaukolämpöyhtiö" -> yhtiö, kaukolämpö.

        Place names are not split; a word Voikko does not know is split at its last hyphen, if any, and otherwise
        left to the material's vocabulary (None).
        """
        readings = [r for r in self.readings(lemma) if r.lemma == lemma]
        if not readings:
            modifier, dash, head = lemma.rpartition("-")
            return self._long_enough(head, modifier) if dash else None
        if any(r.word_class == PLACE_NAME for r in readings):
            return []
        simplest = min(readings, key=lambda r: len(r.boundaries))
        if not simplest.boundaries:
            return []
        cut = simplest.boundaries[-1]
        return self._long_enough(lemma[cut:], self.lemma(lemma[:cut].rstrip("-")))

    def is_word(self, word: str) -> bool:
        return bool(self.readings(word))

    @staticmethod
    def _long_enough(*parts: str) -> list[str]:
        return [p for p in parts if len(p) >= MIN_PART]


def open_voikko() -> VoikkoLemmatizer | None:
    """Voikko with its Finnish dictionary, or None when the library, its binding or the dictionary is missing."""
    if libvoikko is None:
        return None
    try:
        return VoikkoLemmatizer(libvoikko.Voikko("fi"))
    except (OSError, libvoikko.VoikkoException):
        return None


def make_lemmatizer(choice: str) -> Lemmatizer:
    """The lemmatiser for ILMASTO_LEMMATIZER: "voikko", "simplemma", or "auto" (Voikko where it is installed)."""
    if choice not in LEMMATIZERS:
        raise ValueError(f"ILMASTO_LEMMATIZER: expected one of {', '.join(LEMMATIZERS)}, got {choice!r}")
    voikko = open_voikko() if choice != "simplemma" else None
    if voikko is not None:
        return voikko
    if choice == "voikko":
        raise RuntimeError("ILMASTO_LEMMATIZER=voikko, but Voikko cannot be opened: install libvoikko1 and "
                           "voikko-fi (Debian) and the libvoikko Python package, or use auto or simplemma")
    return SimplemmaLemmatizer()
