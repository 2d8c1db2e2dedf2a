"""Attribute extractors: sizes and measures (``matching.measures``), model, prices with currency,
quantities (``matching.quantity``), condition, season, colour, gender, brand and product line.

Each extractor finds spans in the normalised text (NFC, lower case, digits of every script and Han or Korean
numerals made ASCII), records a canonical English value, and blanks the span so that later extractors (and
the item-word normaliser) don't read the same characters twice. Order: a home's bedrooms
(``matching.rooms``), tire size, labelled size (a label before or after it, or a capital letter size alone),
dimensions, purity (a metal's karats or fineness), weight, length (metres, then centimetres), volume (litres;
millilitres read as litres), capacity, storage/RAM, screen, model, price, quantity, condition, season;
colour, gender (an animal's sex, whom clothes or a service are for), schedule (weekends or weekdays), the
sets of animals, roles, languages and times of day named (``patterns.SET_KEYS``), brand and product line
are read without blanking.
The words come from the language tables (``matching.lexicon``), scoped to the text's language: "8 triệu
đồng" is a price of 8,000,000 VND, "3万円" 30,000 JPY, "₩30만" 300,000 KRW.

Contradictions (two tire sizes, "new" and "used", two different prices) become warnings, never a silent
choice; a currency without an amount, or a bare number that could be a price or a quantity, is reported as
uncertain.
"""

from __future__ import annotations

import re
from functools import cache

from matching.brands import brand_of, find_brands, product_lines, read_models
from matching.contacts import blank_contacts
from matching.extraction import Extraction, PriceInfo, blank
from matching.lang import detect_language
from matching.lexicon import (
    LETTER,
    common,
    fold,
    languages,
    pattern,
    scope,
)
from matching.limit_words import (
    MIN_BOUND_PRICE,
    WORD_AFTER,
    counts_things,
    limit_in_words,
    limit_without_currency,
    loose_numbers,
)
from matching.measures import read_measures
from matching.numerals import is_year, number_forms, parse_number
from matching.patterns import (
    CURRENCY_MILLION,
    MULT_LINKS,
    NUM,
    RESOLUTIONS,
    Patterns,
    compiled,
)
from matching.quantity import MIN_BARE_TOTAL, after_name, extract_quantity, month_names, price_beside
from wire.limits import MAX_ATTR_VALUE_LEN

#: Texts longer than this are refused by ``understand`` before any regex runs (bounds the work).
MAX_EXTRACT_CHARS = 4000
#: How far before a price its range's lower end is looked for ("between 1,200.50 USD and ").
RANGE_REACH = 48
#: A range's upper end is at most this many times its lower end ("size 42 - 300 €" is no range).
RANGE_MAX_RATIO = 4

#: A "$" names these: the place's, else US dollars.
DOLLAR_CURRENCIES = frozenset(common()["dollar_currencies"])
PESO_CURRENCIES = frozenset(common()["peso_currencies"])
#: A dollar *word* ("dollars", "dólares", "доллар", code ``DOLLAR`` in the language tables) names the place's
#: dollar where that is one (Toronto, Sydney); where "$" is the peso's sign (Mexico City, Buenos Aires,
#: Bogotá) "95 mil dólares" is US dollars, as it is everywhere else.
DOLLAR_WORD_CURRENCIES = DOLLAR_CURRENCIES - PESO_CURRENCIES
#: "Rupees" / "rupias" name these; which one is the default currency's (else INR).
RUPEE_CURRENCIES = frozenset(common()["rupee_currencies"])
#: "Dinars" name these; which one is the default currency's (else JOD, with a warning).
DINAR_CURRENCIES = frozenset(common()["dinar_currencies"])
#: "Pounds" (libras, фунтов, but not جنيه إسترليني) name these: the place's, else sterling.
POUND_CURRENCIES = frozenset(common()["pound_currencies"])
#: "Dirhams" (درهم, "DH") name these: the Moroccan where one is spent, else the Emirati (with a warning).
DIRHAM_CURRENCIES = frozenset(common()["dirham_currencies"])
#: A money word of several countries (its code in the language tables) -> its currencies, the one assumed
#: where none of them is the place's, and the word a warning names when that guess is worth telling ("$",
#: rupees and pounds: the usual reading; pesos, dinars, dirhams: a guess among equals).
CURRENCY_FAMILIES: dict[str, tuple[frozenset[str], str, str | None]] = {
    "$": (DOLLAR_CURRENCIES, "USD", None),
    "DOLLAR": (DOLLAR_WORD_CURRENCIES, "USD", None),
    "PESO": (PESO_CURRENCIES, "MXN", "pesos"),
    "RUPEE": (RUPEE_CURRENCIES, "INR", None),
    "DINAR": (DINAR_CURRENCIES, "JOD", "dinars"),
    "DIRHAM": (DIRHAM_CURRENCIES, "AED", "dirhams"),
    "POUND": (POUND_CURRENCIES, "GBP", None),
}
#: Currency -> the language whose number words its prices are written with where it is spent.
CURRENCY_LANGUAGE: dict[str, str] = {
    k: str(v) for k, v in common()["currency_language"].items() if k != "note"
}


def parking_cover(text: str) -> str | None:
    """Whether the parking space ``text`` offers or asks for is "covered" (a roof, a garage, a basement) or
    "open" ("parking.covered" and "parking.open" of every language table; read only once the category is
    known: "kapalı" is a covered space but also a closed shop, "open" anything). A denial ("nicht überdacht",
    "không mái che") is read as open first; both named, neither."""
    t = normalise(text)
    found = set()
    for value in ("open", "covered"):
        rx = pattern(f"parking.{value}", languages())
        if rx is not None and rx.search(t):
            found.add(value)
            t = rx.sub(" ", t)
    return found.pop() if len(found) == 1 else None


def normalise(text: str) -> str:
    """``lexicon.fold`` (NFC, the optional Devanagari nukta left out, lower case, Turkish dotted İ kept one
    character), then ``number_forms``."""
    return number_forms(fold(text))


# -- prices
# ------------------------------------------------------------------------------------------------------

#: ``patterns.MULT_LINKS`` as words.
MULT_LINK_WORDS = frozenset(MULT_LINKS.split("|"))


def _currency(
    rx: Patterns, token: str, lang: str | None, default_currency: str | None, warnings: list[str]
) -> str:
    """The ISO code of a currency token; a code written ``KRW*10000`` in the tables carries a factor."""
    code = default_currency or "USD"
    for p, c in rx.currency:
        if p.fullmatch(token):
            code = c.split("*")[0]
            break
    family = CURRENCY_FAMILIES.get(code)
    if family is not None:
        members, assumed, word = family
        if default_currency in members:
            return str(default_currency)
        if word is not None:
            warnings.append(f"'{word}' without a country: assumed {assumed}")
        return assumed
    if code == "YEN":  # "¥": the place's yen or yuan, else by the language (Japanese: yen)
        if default_currency in ("JPY", "CNY"):
            return str(default_currency)
        yen = common()["yen"]
        return str(yen.get(lang or "", yen["default"]))
    return code


def _currency_factor(rx: Patterns, token: str) -> float:
    for p, c in rx.currency:
        if p.fullmatch(token):
            return float(c.split("*")[1]) if "*" in c else 1.0
    return 1.0


def _factor(rx: Patterns, token: str | None) -> float:
    if not token:
        return 1.0
    if token == CURRENCY_MILLION:  # "$1.2M" (``patterns.compiled``: only after a currency)
        return 1_000_000.0
    for p, f in rx.mult:
        if p.fullmatch(token):
            return f
    return 1.0


#: A rate right after an amount ("/mo", "/hr", "/ tháng"): a bound word may follow it.
_RATE = re.compile(rf"\s?/\s?(?:{LETTER}){{1,8}}\.?")


#: How far before and after a price the words about it are read ("each", "max", "was").
BEFORE_REACH = 28
AFTER_REACH = 24


def _price_context(rx: Patterns, text: str, start: int, end: int) -> tuple[bool | None, str | None, int]:
    """Per unit or for all, the bound, and where a trailing "each"/"for all" phrase ends (to blank it)."""
    after = text[end : end + AFTER_REACH]
    before = text[max(0, start - BEFORE_REACH) : start]

    def hit(d: dict[str, re.Pattern[str] | None], key: str, s: str) -> re.Match[str] | None:
        p = d.get(key)
        return p.search(s) if p is not None else None

    per_unit: bool | None = None
    tail = end
    if (m := hit(rx.after, "each", after)) or hit(rx.before, "each", before):
        per_unit = True
        tail = end + m.end() if m else end
    elif (m := hit(rx.after, "total", after)) or hit(rx.before, "total", before):
        per_unit = False
        tail = end + m.end() if m else end
    elif rx.lot_before is not None and (lot := rx.lot_before.search(before)) and int(lot.group("count")) >= 2:
        per_unit = False  # "4 for $100", "2 por 100 pesos": the price of the lot
    bound = None
    # "$2,500/mo max", "$20/hr tops", "$1,500 a month max", "800 al mes como máximo": the bound after the rate
    rate = _RATE.match(after) or (rx.rate_after.match(after) if rx.rate_after is not None else None)
    after_rate = after[rate.end() :] if rate else after
    for key in ("max", "min", "approx"):
        if hit(rx.before, key, before) or hit(rx.after, key, after_rate):
            bound = key
            break
    return per_unit, bound, tail


_NUMBER = re.compile(NUM)


def _ranges(
    rx: Patterns, text: str, found: list[tuple[int, int, PriceInfo]]
) -> list[tuple[int, int, PriceInfo]]:
    """A price written as a range ("between $30 and $40", "1.200-1.500 TL", "от 50 до 70 тыс.", "5千円から
    8千円") is its upper end, bound "range" unless a bound word says otherwise (``understand``: a buyer's
    maximum, a seller's ask); the lower end is neither a second price nor a count. A lower end under a
    quarter of the upper is no range ("size 42 - 300 €")."""
    out: list[tuple[int, int, PriceInfo]] = []
    for start, tail, price in found:
        m = rx.range_low.search(text, max(0, start - RANGE_REACH), start)
        lo = parse_number(m.group("lo")) if m else None
        hi_num = _NUMBER.search(price.text)
        hi = parse_number(hi_num.group(0)) if hi_num else None
        if m is None or lo is None or hi is None or not (hi <= lo * RANGE_MAX_RATIO and lo < hi):
            out.append((start, tail, price))
            continue
        out = [f for f in out if f[0] < m.start()]
        bound = price.bound or "range"
        upper = PriceInfo(price.amount, price.currency, price.per_unit, bound, price.text, price.written)
        out.append((m.start(), tail, upper))
    return out


def _former(rx: Patterns, text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the words that make the price at ``start:end`` a former or a new one's price start and end, the
    price with them ("was $200", "paid $900", "NP 200 €", "nuevo costó 900€", "原价300", "200 TL yerine"): not
    the one asked, and nothing else is read from them ("new" there is no condition); None if none does."""
    before, after = rx.before.get("former"), rx.after.get("former")
    window = max(0, start - BEFORE_REACH)
    if before is not None and (m := before.search(text[window:start])):
        return window + m.start(), end
    if after is not None and (m := after.search(text[end : end + AFTER_REACH])):
        return start, end + m.end()
    return None


def _range_high(
    rx: Patterns, text: str, m: re.Match[str], low: float, langs: tuple[str, ...]
) -> tuple[float, int] | None:
    """The bare upper end of a range written currency first ("$100-150", "$1-1.5k", "€20 to 25/h"): its
    amount and where it ends, or None. A multiplier on one end only is both ends'; the upper must be above the
    lower and at most ``RANGE_MAX_RATIO`` times it ("$100 - 2 chairs" is no range), and no unit or month may
    follow ("$100-128 GB", "$20 - 25 Dec")."""
    h = rx.range_high.match(text, m.end())
    if h is None or rx.unit.match(text, h.end()):
        return None
    after = WORD_AFTER.match(text, h.end())
    if after is not None and after.group(0).strip() in month_names(langs):
        return None
    hi = parse_number(h.group("hi"))
    if hi is None:
        return None
    if h.group("mult"):
        factor = _factor(rx, h.group("mult"))
        hi *= factor
        if not m.group("mult"):
            low *= factor
    elif m.group("mult"):
        hi *= _factor(rx, m.group("mult"))
    hi *= _currency_factor(rx, m.group("cur").strip())
    if not low < hi <= low * RANGE_MAX_RATIO:
        return None
    return hi, h.end()


def _extract_price(
    rx: Patterns,
    text: str,
    lang: str | None,
    default_currency: str | None,
    ex: Extraction,
    cased: str | None = None,
) -> str:
    found: list[tuple[int, int, PriceInfo]] = []
    formers: dict[int, tuple[int, int]] = {}  # a former price's start -> it and its words ("was $200")
    for form in (rx.suffix, rx.prefix):
        for m in form.finditer(text):
            amount = parse_number(m.group("num"))
            if amount is None or any(s < m.end() and m.start() < e for s, e, _ in found):
                continue
            amount *= _factor(rx, m.group("mult")) * _currency_factor(rx, m.group("cur").strip())
            cur = _currency(rx, m.group("cur").strip(), lang, default_currency, ex.warnings)
            high = _range_high(rx, text, m, amount, ex.langs or ()) if form is rx.prefix else None
            end = m.end() if high is None else high[1]
            per_unit, bound, tail = _price_context(rx, text, m.start(), end)
            if high is not None:
                amount, bound = high[0], bound or "range"
            if (marked := _former(rx, text, m.start(), end)) is not None:
                formers[m.start()] = marked
            price = PriceInfo(amount, cur, per_unit, bound, text[m.start() : end].strip())
            found.append((m.start(), tail, price))
    if not found:
        bare: list[tuple[re.Pattern[str] | None, str]] = [
            (rx.bare_mult, "mult"),
            (rx.bare_bound, "bound"),
            (rx.bare_label, "label"),
            (rx.bare_each, "each"),
            (rx.bare_each_before, "each_before"),
            (rx.bare_total, "total"),
            (rx.bare_total_before, "total_before"),
            (rx.bare_lot, "lot"),
            (rx.bare_after, "after"),
            (rx.bare_negotiable, "negotiable"),
            (rx.bare_only, "only"),
        ]
        for bare_rx, kind in bare:
            if bare_rx is None:
                continue
            for m in bare_rx.finditer(text):
                amount = parse_number(m.group("num"))
                if amount is None:
                    continue
                if kind == "negotiable":  # "150 obo", "VB 150": the word goes with the price's span
                    ex.attributes["negotiable"] = "yes"
                if kind in ("mult", "label", "after"):
                    unit = rx.unit.match(text, m.end())
                    named = cased is not None and after_name(cased, m.start("num"))
                    if unit and kind in ("after", "mult") and not named and _bound_word_at(rx, text, m.end()):
                        unit = None  # "1500 max", "2k max": the bound ("iPhone 128 Max" is a model)
                    if unit and unit.group(0).strip() not in MULT_LINK_WORDS:
                        continue  # "120 mil km": a distance, not money
                    if m.group(0).replace(" ", "") in RESOLUTIONS:
                        continue  # "TV 4K"
                    if (
                        kind == "mult"
                        and _factor(rx, m.group("mult")) < 1000
                        and WORD_AFTER.match(text, m.end())
                    ):
                        continue  # "over 2 hundred books": hundreds of things, not money
                if kind in ("mult", "bound", "label"):
                    amount *= _factor(rx, m.group("mult"))
                if kind == "label" and not m.group("mult"):
                    amount *= _label_unit(rx, m.group("label"), amount)
                per_unit, bound, tail = _price_context(rx, text, m.start(), m.end())
                if kind in ("each_before", "total_before") and not _money_alone(rx, text, m, amount, cased):
                    continue  # "по 2 штуки", "insgesamt 3 Teile", "Pescador Pro 12": no price
                if kind == "lot":  # "4 por 2500 negociables"; not "2 for 10 minutes", "4 for 2019 Honda"
                    if int(m.group("count")) < 2 or not _money_alone(
                        rx, text, m, amount, cased, word_after=True
                    ):
                        continue
                    per_unit = False
                if kind in ("each", "each_before"):
                    per_unit = True
                if kind in ("total", "total_before"):
                    if amount < MIN_BARE_TOTAL:
                        continue
                    per_unit = False
                if kind == "bound":
                    at = m.start("num")
                    if (
                        not m.group("mult")
                        and not price_beside(rx, text, at)
                        and counts_things(rx, text, at, m.end("num"))
                    ):
                        continue  # "max 4 tires", "最多3把椅子", "for max 3 hours": a count, not money
                    bound = "max"
                at = m.start("num") if kind == "lot" else m.start()  # the lot's count stays a count
                price = PriceInfo(amount, default_currency, per_unit, bound, m.group(0).strip(), False)
                found.append((at, tail, price))
                break
            if found:
                break
    if not found:
        return text
    found = _ranges(rx, text, sorted(found, key=lambda f: f[0]))
    # "was $200 now $80", "150 € statt 200 €": the price asked is the one no word marks as a former one
    used = [f for f in found if f[0] not in formers] or found
    amounts = {(p.amount, p.currency) for _, _, p in used}
    if len(amounts) > 1:
        bounds = {p.bound for _, _, p in used}
        if not ({"min", "max"} <= bounds):
            ex.warnings.append(
                "several prices: "
                + ", ".join(p.text for _, _, p in used)
                + f"; used the first ({used[0][2].text})"
            )
            ex.uncertain.append("price")
    ex.price = used[0][2]
    for s, e, _ in found:
        text = blank(text, s, e)
    if len(used) < len(found):
        for s, e in formers.values():
            text = blank(text, s, e)
    return text


def _bound_word_at(rx: Patterns, text: str, at: int) -> bool:
    """Whether a bound word written after an amount ("max", "or less", "tops") starts at ``at``."""
    return any(
        p is not None and p.search(text[at : at + AFTER_REACH]) for k, p in rx.after.items() if k != "each"
    )


def _label_unit(rx: Patterns, label: str, amount: float) -> float:
    """The unit a label implies for an amount written below it (``price.label_units``: Korean rent "월세 50"
    is 500,000 won, in 만원 as every Korean rent is; "월세 500000" is as written), else 1."""
    for label_rx, unit in rx.label_units:
        if label_rx.fullmatch(label) and amount < unit:
            return unit
    return 1.0


def _money_alone(
    rx: Patterns, text: str, m: re.Match[str], amount: float, cased: str | None, word_after: bool = False
) -> bool:
    """Whether the number of ``m``, after a word for each or for all with no currency ("每个300", "по 3000",
    "一共1500"), is money: from ``MIN_BOUND_PRICE`` up, not a year, no word (unless ``word_after``: a lot's
    "4 por 2500 negociables"), unit or counter after it ("по 2 штуки", "по 15 человек", "insgesamt 3 Teile"),
    not a model's number ("Pescador Pro 12": "pro", each)."""
    at, end = m.start("num"), m.end("num")
    return (
        amount >= MIN_BOUND_PRICE
        and not is_year(amount)
        and (word_after or WORD_AFTER.match(text, end) is None)
        and not counts_things(rx, text, at, end)  # a counter or a unit after it
        and (cased is None or not after_name(cased, at))
    )


#: Currency names that are everyday words too (``currency_everyday`` in the common table: "gafas de sol",
#: sunglasses; "sous-sol"; Turkish "sol", left; "real leather"): named without an amount, they are not taken
#: for a price nobody wrote, unless they end a limit written in words (``limit_in_words``: a private figure,
#: never published). One list for every language: a currency word is matched beyond the text's own.
@cache
def _everyday() -> frozenset[str]:
    return frozenset(common()["currency_everyday"])


def _read_conditions(rx: Patterns, t: str, brands: list[re.Match[str]]) -> tuple[str, list[str]]:
    """The conditions ``t`` names outside ``brands``, in the tables' order (the first is the one kept), and
    ``t`` without their words. Where two phrases overlap the longer one is read: "never used" and "mai usata"
    are new, not the "used" and "usata" inside them, and "没用过" (not used) is not "用过" (used)."""
    found = [
        (cond, cm.start(), cm.end())
        for cond, crx in rx.conditions
        for cm in crx.finditer(t)
        if cm.end() > cm.start() and not any(b.start() < cm.end() and cm.start() < b.end() for b in brands)
    ]
    taken: list[tuple[str, int, int]] = []
    for cond, a, b in sorted(found, key=lambda f: (f[1] - f[2], f[1])):
        if not any(a < y and x < b for _, x, y in taken):
            taken.append((cond, a, b))
    order = [c for c, _ in rx.conditions]
    conditions = sorted({c for c, _, _ in taken}, key=order.index)
    for _, a, b in taken:
        t = blank(t, a, b)
    return t, conditions


def _check_leftovers(rx: Patterns, text: str, ex: Extraction) -> None:
    """A currency without an amount, or a bare number that may be a price or a quantity: say so."""
    if ex.price is None:
        for m in rx.currency_word.finditer(text):
            word = m.group(0).strip()
            if not word or re.search(r"\d", text[max(0, m.start() - 3) : m.end() + 3]):
                break
            if limit_in_words(text, m.start(), m.end(), ex.langs):
                ex.limit_in_words = word
                ex.warnings.append(
                    f"a limit in words ({word}) that can't be read: write it in digits, e.g. '80 {word}'"
                )
            elif word.lower() in _everyday():
                continue
            else:
                ex.warnings.append(f"a currency ({word}) but no amount: say e.g. '80 {word}'")
            if "price" not in ex.uncertain:
                ex.uncertain.append("price")
            break
        if ex.limit_in_words is None:
            limit_without_currency(rx, text, ex)
        loose = loose_numbers(rx, text)
        if loose and ex.quantity is None and ex.limit_in_words is None:
            n = loose[0].group(1)
            ex.warnings.append(f"{n}: a price or a quantity? say e.g. '{n} USD' or '{n} pieces'")
            for key in ("price", "quantity"):
                if key not in ex.uncertain:
                    ex.uncertain.append(key)


def _set_value(values: list[str]) -> str:
    """Values joined by commas, as many as an attribute value holds (``MAX_ATTR_VALUE_LEN``)."""
    out = ""
    for v in values:
        joined = f"{out},{v}" if out else v
        if len(joined) > MAX_ATTR_VALUE_LEN:
            break
        out = joined
    return out


def extract(
    text: str, default_currency: str | None = None, lang: str | None = None, also: tuple[str, ...] = ()
) -> Extraction:
    """Run every extractor on ``text``.

    Args:
        text: the user's text (any language); at most ``MAX_EXTRACT_CHARS`` characters are read.
        default_currency: ISO code used for a bare "$" (if a dollar currency) or a price without currency.
        lang: the text's language (detected when None); decides which language tables apply.
        also: further languages whose tables apply (the other languages of a mixed text); the language of the
            default currency (``CURRENCY_LANGUAGE``) applies too: "budget 150rb" read in Jakarta, where the
            detector may call the text English, is 150,000.

    Returns:
        An ``Extraction``; ``rest`` is the normalised text with consumed spans blanked.
    """
    ex = Extraction()
    head = text[:MAX_EXTRACT_CHARS]
    t = normalise(head)
    cased = head if len(t) == len(head) else None  # every character in place: a word's case is known
    if lang is None:
        lang = detect_language(t)[0]
    home = CURRENCY_LANGUAGE.get(default_currency or "")
    langs = scope(lang, also if home is None else (*also, home))
    ex.langs = langs
    rx = compiled(langs)
    t = blank_contacts(t, rx.money_after)
    t = read_measures(t, cased, rx, ex)
    t = read_models(t, ex)
    t = _extract_price(rx, t, lang, default_currency, ex, cased)
    if rx.negotiable is not None:
        neg = rx.negotiable.search(t)
        if neg:
            ex.attributes["negotiable"] = "yes"
            t = blank(t, neg.start(), neg.end())
    t = extract_quantity(rx, t, ex, cased)
    brands = find_brands(t)  # read once: "New Balance" is a brand, not a condition
    t, conditions = _read_conditions(rx, t, brands)
    if conditions:
        ex.attributes["condition"] = conditions[0]
        if {"new", "used"} <= set(conditions):
            ex.warnings.append(f"contradictory condition: {' and '.join(conditions)}; kept {conditions[0]}")
            ex.uncertain.append("condition")
    for season, srx in rx.seasons:
        sm = srx.search(t)
        if sm:
            ex.put("season", season)
            t = blank(t, sm.start(), sm.end())
            break
    # one of a few values, each named by its words: two named ("black and white", "male and female") is none;
    # gender is an animal's sex or whom clothes or a service are for, schedule a job's or a service's days
    for key, named in (("color", rx.colors), ("gender", rx.genders), ("schedule", rx.schedules)):
        values = {v for v, vrx in named if vrx.search(t)}
        if len(values) == 1:
            ex.attributes[key] = values.pop()
    for key, reader in rx.sets.items():  # every value named: "dog and cat sitting" is both
        if value := _set_value(sorted(reader.read(t))):
            ex.attributes[key] = value
    for m in brands:
        canonical = brand_of(m.group(0))
        if canonical is not None:
            ex.put("brand", canonical)
    lines = product_lines(t)
    if lines:  # "an Activa or a Jupiter": both, not a contradiction
        ex.attributes["line"] = ",".join(dict.fromkeys(s for s, _, _ in lines))
        ex.names = [(a, b, s) for s, a, b in lines]  # "TVS Apache" is not TVs (``canonical.find_glosses``)
    _check_leftovers(rx, t, ex)
    ex.rest = t
    return ex
