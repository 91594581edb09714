"""Follow-up questions: rewrite "entä Laukaassa?" into a standalone question using the earlier turns."""

from __future__ import annotations

import re
from typing import Iterable

from bot.finnish import lemmas
from bot.municipalities import MUNICIPALITY_STEMS, find_municipalities
from bot.question import name_terms, question_kind

# Openers that mark a question as leaning on the previous one.
_FOLLOW_UP_OPENERS = re.compile(r"^\s*(entä|entäs|mites|miten\s+on|kuin\s+myös|ja\s+sitten|no\s+entä|sama|samoin|ja)\b", re.I)
# Words that point back to the earlier question's topic ("Kuka sitä hallinnoi?").
_POINTING_BACK = re.compile(r"\b(se|sen|sitä|siitä|siihen|siinä|sillä|siltä|sille|ne|niitä|niistä|niihin|niiden|"
                            r"tämä|tämän|tätä|tästä|tähän|nämä|näitä|noista|kyseinen|kyseisen|kyseistä)\b", re.I)
_MIN_CONTENT_LEMMAS = 3
MAX_CHAIN = 3  # earlier follow-ups read back to find the topic
TOPIC_SEPARATOR = " – "  # between a follow-up's own question and the earlier topic it is about


def is_follow_up(question: str) -> bool:
    """A question that opens like a follow-up, points back to the earlier topic, or has too little content to
    stand on its own ("Mikä on Hinku-verkosto?" names its own topic and stands)."""
    if _FOLLOW_UP_OPENERS.match(question):
        return True
    content = [l for l in lemmas(question) if not _is_municipality_word(l)]
    if _POINTING_BACK.search(question):  # a short question's "sitä" is the earlier topic, a long one's its own
        return len(content) < _MIN_CONTENT_LEMMAS
    return len(content) < _MIN_CONTENT_LEMMAS - 1 and not name_terms(question)


def _is_municipality_word(word: str) -> bool:
    return bool(find_municipalities(word))


def _replace_municipality(text: str, old: str, new: str) -> str:
    """Swap every inflected mention of ``old`` for the basic form of ``new`` (lemma search ignores the case)."""
    stems = "|".join(re.escape(s) for s in MUNICIPALITY_STEMS[old])
    return re.sub(rf"\b(?:{stems})[a-zåäö]*", new, text, flags=re.I)


def standalone_question(question: str, history: list[tuple[str, str]] | None, max_chars: int = 500) -> str:
    """The question to retrieve with: itself, or the previous question adapted by the follow-up.

    Never longer than max_chars (the question limit, ILMASTO_MAX_QUESTION_CHARS; the Answerer should pass its
    setting), so that a huge earlier question cannot make one answer slow for everyone.
    """
    asked = [q for q, _ in history or [] if q and q.strip()]
    if not asked or not is_follow_up(question):
        return question[:max_chars]
    # The earlier question as it was understood: "Entä Jämsässä?" after "Entä Laukaassa?" follows the first.
    previous = standalone_question(asked[-1], [(q, "") for q in asked[-1 - MAX_CHAIN:-1]], max_chars)
    new_places = find_municipalities(question)
    old_places = find_municipalities(previous)
    remainder = _FOLLOW_UP_OPENERS.sub("", question).strip(" ?!.,")
    rewritten = _replace_municipality(previous, old_places[0], new_places[0]) if new_places and old_places \
        else previous
    extra = [w for w in remainder.split() if not _is_municipality_word(w)]
    if question_kind(" ".join(extra)) != "other":
        # "Entä Petäjävedellä, milloin sen suunnitelma hyväksyttiin?" asks its own question about the earlier
        # topic: its question first (what is asked is read from there), the earlier one as the topic.
        topic = rewritten.split(TOPIC_SEPARATOR)[-1]  # an earlier follow-up's own question is not the topic
        standalone = f"{' '.join(extra)}{TOPIC_SEPARATOR}{topic.rstrip(' ?')}"
    elif new_places and old_places:
        standalone = " ".join([rewritten.rstrip(" ?"), *extra]).strip()
    else:
        standalone = f"{previous.rstrip(' ?')}{TOPIC_SEPARATOR}{remainder}"
    return standalone[:max_chars - 1] + "?"


def question_answer_pairs(messages: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(question, answer) pairs from chat messages given as (role, content), "user" or "assistant"."""
    pairs, question = [], None
    for role, content in messages:
        if role == "user":
            question = content
        elif question is not None:
            pairs.append((question, content))
            question = None
    return pairs


def history_pairs(raw: Iterable[object]) -> list[tuple[str, str]]:
    """History given as [question, answer] pairs or as {"role", "content"} messages, as (question, answer) pairs."""
    items = list(raw or [])
    if items and all(isinstance(i, dict) for i in items):
        return question_answer_pairs((str(i.get("role")), str(i.get("content") or "")) for i in items)
    return [(str(i[0]), str(i[1]) if len(i) > 1 else "") for i in items if isinstance(i, (list, tuple)) and i]
