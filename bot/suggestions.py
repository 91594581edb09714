"""Example questions the starter material answers: the UI's chips and the refusal's suggestions."""

from __future__ import annotations

from bot.finnish import lemmas

EXAMPLE_QUESTIONS: tuple[str, ...] = (
    "Mitä ilmastolaki vaatii kunnalta?",
    "Mistä kunta voi hakea rahoitusta ilmastotyöhön?",
    "Mikä on Hiilineutraali Keski-Suomi 2030 -tiekartan tavoite?",
    "Miten kunnan kasvihuonekaasupäästöt lasketaan?",
    "Mikä on Hinku-verkosto?",
    "Miten kunta voi tehdä vähähiilisiä hankintoja?",
    "Miten kunta voi varautua ilmastonmuutokseen?",
    "Millaisia ilmastohankkeita Keski-Suomen liitto on toteuttanut?",
    "Mikä on Pohjoisen Keski-Suomen ilmastosuunnitelma -hanke?",
    "Miten kunta voi luopua öljylämmityksestä?",
)
DEFAULT_SUGGESTIONS = EXAMPLE_QUESTIONS[:3]


def related_suggestions(question: str, n: int = 3) -> list[str]:
    """Up to n example questions closest to the question by shared lemmas; the general ones otherwise."""
    wanted = set(lemmas(question))
    scored = sorted(
        ((len(wanted & set(lemmas(q))), i, q) for i, q in enumerate(EXAMPLE_QUESTIONS)), key=lambda t: (-t[0], t[1])
    )
    picked = [q for score, _, q in scored if score > 0][:n]
    for q in DEFAULT_SUGGESTIONS:
        if len(picked) >= n:
            break
        if q not in picked:
            picked.append(q)
    return picked
