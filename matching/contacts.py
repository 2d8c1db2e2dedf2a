"""Contact details written into a text: phone numbers, e-mail addresses and links. They are never an amount
or a count ("call 555-123-4567" is not 555 of anything, "0612345678" no price), so ``matching.extract``
blanks them first; and they are published with the text, which ``matching.published`` tells the human.

A run of digit groups is a phone number when it could be nothing else: it starts with a country code
("+44 7700 900123") or an area code in parentheses ("(555) 123-4567"), or starts with a 0 and has nine
digits or more ("0612345678", "0912 345 678", "06 12 34 56 78"), or has two dashes or more ("555-123-4567",
"0812-3456-7890"; an ISO date has eight digits, too few), or comes right after a word for a phone
("tel", "llamar al", "hubungi", common.json's ``phone_cues``). Digit groups split by spaces or dots alone
("1 500 000 ₽", "12.500.000đ") stay an amount.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from matching.extraction import blank
from matching.lexicon import common

#: The fewest and most digits of a phone number (E.164 allows 15, a local number has 7 or more).
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15
#: The fewest digits of a number starting with 0, or written with dashes, that is a phone without a cue.
MIN_BARE_PHONE_DIGITS = 9
#: How far before a number (characters) a word for a phone is looked for: it must end right before it, or
#: before a colon or the like ("tel: 612 345 678"; not "lh giá 8.500.000", a price word comes between).
CUE_REACH = 20

#: A letter of an alphabet (not a CJK character: "电话13912345678" has no space before the number).
_LETTER = r"[a-zA-Z\u00c0-\u024f\u0370-\u04ff\u1e00-\u1eff]"
_PHONE = re.compile(
    rf"(?<![\d_+.,/:@-])(?<!{_LETTER})"
    r"(?P<cc>\+\d{1,3}[\s.\-]?)?"
    r"(?P<area>\(\d{1,5}\)\s?)?"
    r"\d{1,15}(?:[\s.\-]\d{1,15}){0,6}"
    rf"(?!\d|{_LETTER}|[_@/]|[.,]\d)"
)
#: ``MIN_PHONE_DIGITS`` digits with at most two other characters between each two (a phone's separators).
_SEVEN_DIGITS = re.compile(rf"\d(?:\D{{0,2}}\d){{{MIN_PHONE_DIGITS - 1}}}")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.UNICODE)
_LINK = re.compile(r"(?<!\w)(?:https?://|www\.)[^\s<>\"']{1,500}", re.IGNORECASE)


@cache
def _cue() -> re.Pattern[str]:
    words = sorted((str(w) for w in common()["phone_cues"]), key=len, reverse=True)
    alt = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!{_LETTER})(?:{alt})[\s:：.#№-]{{0,3}}$")


def _is_phone(text: str, start: int, end: int) -> bool:
    raw = text[start:end]
    digits = sum(c.isdigit() for c in raw)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return False
    if raw[0] in "+(":
        return True
    if digits >= MIN_BARE_PHONE_DIGITS and (raw.startswith("0") or raw.count("-") >= 2):
        return True
    before = text[max(0, start - CUE_REACH) : start]
    return _cue().search(before) is not None


def _phone_in(text: str, m: re.Match[str], money: re.Pattern[str] | None) -> tuple[int, int] | None:
    """The longest phone number among the runs of whole digit groups of the candidate ``m``, the leftmost
    first: "Sofa 150 0612345678" holds one after "150", and a last group a currency follows is an amount
    ("tel 0612345678 150 EUR")."""
    runs = [(m.start() + r.start(), m.start() + r.end()) for r in re.finditer(r"\d+", m.group(0))]
    for i in range(len(runs)):
        start = m.start() if i == 0 else runs[i][0]
        for j in range(len(runs) - 1, i - 1, -1):
            end = runs[j][1]
            if j > i and text[runs[j][0] - 1].isspace() and money is not None and money.match(text, end):
                continue
            if _is_phone(text, start, end):
                return start, end
    return None


def find_contacts(text: str, money: re.Pattern[str] | None = None) -> list[tuple[int, int, str]]:
    """The phone numbers, e-mail addresses and links of lower-cased ``text``: ``(start, end, kind)`` with
    kind ``phone``, ``email`` or ``link``, in text order, not overlapping. ``money``, matched right after a
    number, says a currency follows it (the number is then no phone's last group)."""
    if not _may_hold_contacts(text):
        return []
    found: list[tuple[int, int, str]] = []
    for kind, rx in (("link", _LINK), ("email", _EMAIL)):
        for m in rx.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), kind))
    for m in _PHONE.finditer(text):
        span = _phone_in(text, m, money)
        if span is not None and not any(s < span[1] and span[0] < e for s, e, _ in found):
            found.append((*span, "phone"))
    return sorted(found)


def _may_hold_contacts(text: str) -> bool:
    """False when ``text`` can hold no contact (no "@", no link, too few digits for a phone): most texts."""
    return "@" in text or "www." in text or "://" in text or _SEVEN_DIGITS.search(text) is not None


#: Texts whose blanked form is remembered: the language detector and the extractor ask for the same text.
BLANK_CACHE = 4096


@lru_cache(maxsize=BLANK_CACHE)
def blank_contacts(text: str, money: re.Pattern[str] | None = None) -> str:
    """``text`` with its contact details (``find_contacts``) blanked (positions kept)."""
    for start, end, _ in find_contacts(text, money):
        text = blank(text, start, end)
    return text
