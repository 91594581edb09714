"""What a question may carry, for the chat window and the API alike, and the Finnish words for what it may not.

Text must be encodable (a lone surrogate such as "\\ud800" parses as JSON but breaks the embedder), and the
conversation so far is cut to size so that a huge history cannot make one answer slow for everyone.
Error messages name the field and the rule, never the value sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

MAX_HISTORY = 40  # earlier turns taken into account
HISTORY_ANSWER_CHARS = 2_000  # an earlier answer is only context; its start is enough
UNREADABLE = "Teksti sisältää merkkejä, joita ei voi käsitellä (virheellinen Unicode)"
INVALID = "Arvo ei kelpaa"
# pydantic error types -> Finnish message (the rest get INVALID)
MESSAGES = {
    "missing": "Kenttä puuttuu",
    "extra_forbidden": "Tuntematon kenttä",
    "string_type": "Arvon pitää olla merkkijono",
    "list_type": "Arvon pitää olla lista",
    "tuple_type": "Arvon pitää olla pari [kysymys, vastaus]",
    "too_long": "Liian monta alkiota",
    "too_short": "Liian vähän alkioita",
    "string_too_long": "Teksti on liian pitkä",
    "literal_error": "Arvon pitää olla \"user\" tai \"assistant\"",
    "model_type": "Arvon pitää olla olio",
    "model_attributes_type": "Arvon pitää olla olio",
    "dict_type": "Arvon pitää olla olio",
}


def is_readable(text: str) -> bool:
    """False for text with lone surrogates, which cannot be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable_text(value: str) -> str:
    """A pydantic validator: the value itself, or ValueError with a Finnish message."""
    if not is_readable(value):
        raise ValueError(UNREADABLE)
    return value


def capped_history(pairs: Iterable[Sequence[str]], max_chars: int) -> list[tuple[str, str]]:
    """The last MAX_HISTORY (question, answer) pairs, each question cut at max_chars and each answer at
    HISTORY_ANSWER_CHARS."""
    return [(question[:max_chars], answer[:HISTORY_ANSWER_CHARS]) for question, answer in list(pairs)[-MAX_HISTORY:]]


def finnish_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's validation errors without the values sent, with Finnish messages."""
    return [{"loc": list(e["loc"]), "type": e["type"], "msg": _message(e)} for e in errors]


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "value_error":  # raised by our own validators, already in Finnish
        return str(error["ctx"]["error"]) if "ctx" in error else error["msg"].removeprefix("Value error, ")
    return MESSAGES.get(error["type"], INVALID)
