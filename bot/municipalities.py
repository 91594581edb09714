"""The municipalities of Central Finland and their recognition in inflected Finnish questions.

Finnish inflects place names with consonant gradation and stem changes (Luhanka → Luhangassa, Konnevesi →
Konnevedellä, Uurainen → Uuraisilla, Pihtipudas → Pihtiputaalla), so each name is recognised by the stems
its inflected forms share, followed by a short case ending.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# basic form -> stems that every inflected form starts with (lower case)
MUNICIPALITY_STEMS: dict[str, tuple[str, ...]] = {
    "Hankasalmi": ("hankasalm",),
    "Joutsa": ("joutsa",),
    "Jyväskylä": ("jyväskyl",),
    "Jämsä": ("jämsä",),
    "Kannonkoski": ("kannonkosk",),
    "Karstula": ("karstula",),
    "Keuruu": ("keuruu",),
    "Kinnula": ("kinnula",),
    "Kivijärvi": ("kivijärv",),
    "Konnevesi": ("konneve",),
    "Kyyjärvi": ("kyyjärv",),
    "Laukaa": ("laukaa",),
    "Luhanka": ("luhanka", "luhanga"),
    "Multia": ("multia",),
    "Muurame": ("muurame",),
    "Petäjävesi": ("petäjäve",),
    "Pihtipudas": ("pihtipuda", "pihtiputa"),
    "Saarijärvi": ("saarijärv",),
    "Toivakka": ("toivakka", "toivaka"),
    "Uurainen": ("uurainen", "uurais"),
    "Viitasaari": ("viitasaar",),
    "Äänekoski": ("äänekosk",),
}
MUNICIPALITIES: tuple[str, ...] = tuple(MUNICIPALITY_STEMS)

# What an inflected form may add after its stem: a few stem letters ("Äänekosk|e", "Konneve|de"), a case
# ending and a clitic ("Jyväskyl|ä|ssä|kin"), or the inhabitants' word in any case ("kinnula|laisen",
# "saarijärve|läisistä"). Anything else ("Multia|alinen") is another word.
_ENDING = re.compile(
    r"[aeiouyäöd]{0,2}?(?:n|a|ä|ta|tä|na|nä|ssa|ssä|sta|stä|lla|llä|lta|ltä|lle|ksi|seen|en|in|an|än|un|uun|aan|ään|een|iin|ten|den|lainen|läinen|"
    r"(?:lai|läi)s(?:en|et|ten|ia|iä|ille|ilta|iltä|ista|istä|iin|ina|inä|ilä|illa|illä)?)?"
    r"(?:kin|kaan|kään|ko|kö|han|hän)?"
)
_MAX_ENDING = 9
_TOKEN = re.compile(r"[a-zåäö]+")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def find_municipalities(text: str) -> list[str]:
    """Every Central Finland municipality named in ``text``, in order of first mention."""
    found: list[str] = []
    for token in _TOKEN.findall(_fold(text)):
        name = _match_token(token)
        if name and name not in found:
            found.append(name)
    return found


def find_municipality(text: str) -> str | None:
    """The first municipality named in ``text``, or None."""
    names = find_municipalities(text)
    return names[0] if names else None


@lru_cache(maxsize=50_000)  # the material's words recur in every answer; bounded, as users type new ones
def _match_token(token: str) -> str | None:
    for name, stems in MUNICIPALITY_STEMS.items():
        for stem in (name.lower(), *stems):
            rest = token[len(stem) :]
            if token.startswith(stem) and len(rest) <= _MAX_ENDING and _ENDING.fullmatch(rest):
                return name
    return None


def normalize_municipality(name: str | None) -> str | None:
    """The basic form for a municipality given in any form or case, or None when it is not one."""
    if not name:
        return None
    return find_municipality(name)
