"""Mask what looks like personal data before a question or comment is written anywhere.

People type their own details into chat boxes. The log keeps questions for months, so anything shaped like a
Finnish personal identity code (henkilötunnus, with every century sign in use since 2023), a phone number
(Finnish or international) or an e-mail address is replaced by a label before it is stored. Masking errs on the
side of hiding: a false alarm costs a few digits of a logged question, a miss costs someone's privacy.
"""

from __future__ import annotations

import re

# DDMMYY, a century sign (+ 1800s; - Y X W V U 1900s; A B C D E F 2000s), three digits, a check character.
_HENKILOTUNNUS = re.compile(
    r"(?<![0-9A-Za-z])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y](?![0-9A-Za-z])",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# International: + or 00, a country code, then 6-12 more digits in groups. Finnish: a leading 0 and an area or
# operator code (09, 014, 040, 050, 0800 …), then 5-9 more digits in groups. Separators: space, hyphen, brackets.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[1-9]\d{0,2}[ -]?(?:\(\d{1,4}\)[ -]?)?|\(?0[1-9]\d{0,3}\)?[ -]?)(?:\d[ -]?){5,11}\d(?!\w)"
)
MASKS = ((_HENKILOTUNNUS, "[henkilötunnus]"), (_EMAIL, "[sähköposti]"), (_PHONE, "[puhelinnumero]"))


def mask_personal_data(text: str) -> str:
    """The text with identity codes, e-mail addresses and phone numbers replaced by Finnish labels."""
    for pattern, label in MASKS:
        text = pattern.sub(label, text)
    return text
