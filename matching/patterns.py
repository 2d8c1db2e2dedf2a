"""The price, quantity and attribute patterns of one language scope, compiled once per scope.

``compiled(langs)`` builds every regular expression the extractor (``matching.extract``) needs from the
language tables (``matching.lexicon``): currency words and symbols, magnitude words ("triệu", "万",
"만"), price bound and "each"/"total" words before and after an amount, a price's labels ("giá", "月租")
and a range's words ("between ... and", "от ... до"), size labels, screen inches, quantity words and
counters, units, conditions, seasons and colours. The result is cached per scope.
"""

from __future__ import annotations

import re
import re._parser as _sre_parser
from dataclasses import dataclass
from functools import cache
from typing import Any

from matching.lexicon import (
    LETTER,
    common,
    field,
    literal_trie,
    mapping,
    multipliers,
    number_words,
    pattern,
    table,
    tagged,
    wrap,
)

#: Indian digit grouping: lakhs and crores ("3,50,000", "1,20,00,000").
INDIAN_GROUPING = r"\d{1,2}(?:,\d{2})+,\d{3}"
#: An amount: Indian grouping, thousands grouped by "." "," or a space, or plain digits; each with up to two
#: decimals except the Indian one.
NUM = rf"{INDIAN_GROUPING}(?![\d,])|\d{{1,3}}(?:[.,\s]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?"
#: Table lists read as a bound's words wherever the bound's own are, but not in a limit written in words
#: (``limit_words``): what a buyer will pay ("I'll pay $200", "Zahle 150 €", "2000 TL öderim",
#: "5000円払います") is the most they pay, and "pago en soles" names no amount.
PAY_WORDS: dict[str, tuple[str, ...]] = {
    "price.max_before": ("price.pay_before",),
    "price.max_after": ("price.pay_after",),
}
#: Millions after an amount written currency first ("$1.2M"); matched case-insensitively (texts are folded).
CURRENCY_MILLION = "m"
#: Words that link a multiplier to what it counts ("8 milhões de rupias"): after one they are no unit.
MULT_LINKS = "de|di|of"
#: A display's resolution, never an amount of money when it stands without a bound word ("TV 4K").
RESOLUTIONS = frozenset({"4k", "8k"})
#: A size is one value: "talla 12-18 meses" is an age range, not size 12.
NOT_RANGE = r"(?!\s?[-–~]\s?\d)"
#: A letter size ("M", "XL", "2XL").
SIZE_LETTERS = r"xxs|xs|s|m|l|xl|xxl|xxxl|2xl|3xl"
#: An amount starts a token: not after a letter, a digit or a joining mark; a "." or "," joins only what is
#: before it in a word ("2,5", "v.2"): after Han, kana, Hangul or another mark it ends a clause
#: ("相机，2800元", whose full-width comma reads as ","); a "-" only after a digit (a range: "200-250 €").
NOT_BEFORE_NUM = (
    r"(?<![0-9a-z\u00c0-\u024f\u0400-\u04ff/])(?<![^0-9]-)(?<!^-)(?<![0-9a-z\u00c0-\u024f\u0400-\u04ff][.,])"
)


@dataclass(frozen=True)
class Patterns:
    """Every compiled pattern of one language scope (see the module's docstring)."""

    currency: tuple[tuple[re.Pattern[str], str], ...]
    prefix: re.Pattern[str]
    suffix: re.Pattern[str]
    bare_mult: re.Pattern[str] | None
    bare_bound: re.Pattern[str] | None
    bare_each: re.Pattern[str] | None
    bare_each_before: re.Pattern[str] | None  # a number after "each", "每个", "по" ("每个300"): a price each
    bare_total_before: re.Pattern[str] | None  # a number after "一共", "total" ("一共1500"): a price for all
    lot_before: re.Pattern[str] | None  # a count and "for" ending the text before a price ("4 for $100")
    bare_lot: re.Pattern[str] | None  # a count, "for" and a number ("4 por 2500"): the price of the lot
    bare_only: re.Pattern[str]  # a number before "/-" ("45,000/-", South Asian and East African ads): money
    bare_total: re.Pattern[str] | None  # a number before a word for the whole lot ("180 for all"): a price
    bare_negotiable: re.Pattern[str] | None  # a number beside "obo", "VB", "neg." ("150 obo", "VB 150")
    bare_label: re.Pattern[str] | None  # a number after a price's label ("giá 12.500.000", "月租3500")
    rate_after: re.Pattern[str] | None  # a period a bound may follow ("a month", "al mes", "महीना")
    label_units: tuple[tuple[re.Pattern[str], float], ...]  # a label's implied unit (Korean "월세 50": 만원)
    bare_after: re.Pattern[str] | None  # three digits or more, then a bound word ("2000以内", "3000 तक"); not
    # with a Turkish case ending ("2015'e kadar model": a year)
    after_mult: re.Pattern[str] | None  # a multiplier right after a number ("80 mil km": a distance)
    range_low: re.Pattern[str]  # a range's lower end, up to where its upper end starts ("between $30 and ")
    #: A bare upper end right after a price written currency first ("$100-150", "$1-1.5k", "€20 to 25/h"): no
    #: currency, digit or unit of its own after it.
    range_high: re.Pattern[str]
    before: dict[str, re.Pattern[str] | None]
    after: dict[str, re.Pattern[str] | None]
    mult: tuple[tuple[re.Pattern[str], float], ...]
    negotiable: re.Pattern[str] | None
    labelled_size: re.Pattern[str] | None
    size_after: re.Pattern[str] | None
    screen: re.Pattern[str] | None
    qty_set: re.Pattern[str] | None
    qty_pair: re.Pattern[str] | None
    qty_counter: re.Pattern[str] | None
    qty_word: re.Pattern[str]
    #: Two counts of a range or a choice before a word ("3-4 chairs", "2 o 3 sillas", "3 à 4 chaises"): the
    #: second is ``n``, as in ``qty_word``.
    qty_range: re.Pattern[str]
    qty_not_after: re.Pattern[str] | None  # a word before a number that makes it no count ("jam 7")
    qty_times: re.Pattern[str] | None  # a word after a set's "2x" that makes it times ("2x geimpft")
    #: Wear or damage after a count, with at most one word between ("2 small scratches", "пара царапин"): the
    #: count is of the flaws, not of the things offered.
    qty_flaw: re.Pattern[str] | None
    #: Things sold by the pair, up to three words after a pair word ("a pair of Nike running shoes"): one
    #: pair is one of them.
    qty_paired: re.Pattern[str] | None
    #: A word that prices each of the things a count counts ("per", "la", "за", or "/"), and the word after it
    #: (``w``: "20 jars, 12 € per jar").
    per_thing: re.Pattern[str]
    unit: re.Pattern[str]
    numbers: dict[str, int]
    conditions: tuple[tuple[str, re.Pattern[str]], ...]
    seasons: tuple[tuple[str, re.Pattern[str]], ...]
    colors: tuple[tuple[str, re.Pattern[str]], ...]
    genders: tuple[tuple[str, re.Pattern[str]], ...]
    schedules: tuple[tuple[str, re.Pattern[str]], ...]
    #: ``SET_KEYS`` -> the reader of the values a table names.
    sets: dict[str, SetReader]
    currency_word: re.Pattern[str]
    #: A currency right after a number, a space between or none (``contacts.find_contacts``' ``money``).
    money_after: re.Pattern[str]


#: Attributes read as the set of every value the text names ("cats and dogs": cat,dog), each value's words
#: in the language tables: the animal a pet good or service is for, a job's or a worker's role, the human
#: languages named (a tutor's, a book's, an interpreter's) and the time of day of a job or service. Two sides
#: sharing no value conflict (``signals.SOFT_CONFLICT_KEYS``): a cat sitter is not found by a dog sitter's ad
#: first.
SET_KEYS = ("animal", "role", "language", "hours")


def _anchors(fragment: str) -> frozenset[str] | None:
    """Literal strings one of which every match of the regex ``fragment`` contains ("(?<!hot )dogs?": dog);
    None if none can be told (the fragment is then always tried)."""
    try:
        parsed = _sre_parser.parse(fragment)
    except Exception:  # an internal module's form: no anchors is always correct
        return None
    return _required(list(parsed))


def _required(items: list[Any]) -> frozenset[str] | None:
    """The anchors of a parsed sequence: its longest run of literals, or the best of its required parts."""
    best: frozenset[str] | None = None
    run = ""

    def better(cand: frozenset[str] | None) -> None:
        nonlocal best
        if cand and (best is None or min(map(len, cand)) > min(map(len, best))):
            best = cand

    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run += chr(av)
            continue
        better(frozenset({run}) if run else None)
        run = ""
        if name == "SUBPATTERN":
            better(_required(list(av[-1])))
        elif name == "BRANCH":
            branches = [_required(list(b)) for b in av[1]]
            if all(branches):
                better(frozenset(a for b in branches if b for a in b))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            better(_required(list(av[2])))
    better(frozenset({run}) if run else None)
    return best


_NONE: frozenset[str] = frozenset()


class SetReader:
    """The values of one set attribute a text names. Each value's pattern is tried only if the text holds one
    of its fragments' literal anchors, found for all values in one pass of a trie of the anchors: trying each
    of the 4,200 fragments' patterns on every text doubled the extraction time (1.15 -> 2.6 ms a text)."""

    def __init__(self, named: tuple[tuple[str, re.Pattern[str]], ...], fragments: dict[str, list[str]]):
        self.named = named
        self.by_anchor: dict[str, set[str]] = {}
        self.always: set[str] = set()
        for value, frags in fragments.items():
            for frag in frags:
                anchors = _anchors(frag)
                if anchors is None:
                    self.always.add(value)
                    continue
                for a in anchors:
                    self.by_anchor.setdefault(a, set()).add(value)
        self.scan = re.compile(f"(?=({literal_trie(self.by_anchor)}))") if self.by_anchor else None

    def read(self, text: str) -> list[str]:
        """The values ``text`` names, in table order."""
        maybe = set(self.always)
        if self.scan is not None:
            for m in self.scan.finditer(text):
                hit = m.group(1)  # the longest anchor starting here; the shorter ones are its prefixes
                for n in range(1, len(hit) + 1):
                    maybe |= self.by_anchor.get(hit[:n], _NONE)
        return [v for v, vrx in self.named if v in maybe and vrx.search(text)]


def _named(key: str, langs: tuple[str, ...]) -> SetReader:
    """The reader of ``key`` over the tables of ``langs``: each value they name with its pattern, in table
    order."""
    fragments: dict[str, list[str]] = {}
    for lang in langs:
        for value, frags in table(lang).get(key, {}).items():
            fragments.setdefault(str(value), []).extend(str(f) for f in frags)
    named = tuple((v, p) for v in fragments if (p := pattern(f"{key}.{v}", langs)) is not None)
    return SetReader(named, fragments)


def _alt(parts: list[str]) -> str:
    return "|".join(sorted(set(parts), key=len, reverse=True))


def _common_currency() -> list[tuple[str, str]]:
    out = []
    for entry, code in common()["currency"]:
        wrapped = rf"(?<![a-z])(?:{entry})(?![a-z])" if re.search(r"[a-z]", entry) else f"(?:{entry})"
        out.append((wrapped, code))
    return out


@cache
def compiled(langs: tuple[str, ...]) -> Patterns:
    """The patterns of the language scope ``langs`` (cached: built once per scope)."""
    cur_parts = [w for w, _ in _common_currency()]
    cur_tagged: list[tuple[re.Pattern[str], str]] = [(re.compile(w), c) for w, c in _common_currency()]
    for lang in langs:
        for entry, _code in table(lang).get("currency", []):
            cur_parts.append(wrap(entry, lang))
    cur_tagged = list(tagged("currency", langs)) + cur_tagged
    cur = _alt(cur_parts)
    mults = multipliers(langs)
    mult = _alt(
        [m if re.search(r"[\u3040-\u9fff\uac00-\ud7af]", m) else rf"(?:{m})(?!{LETTER})" for m, _ in mults]
    )
    mult = mult or "(?!x)x"
    mult_group = rf"(?:\s?(?P<mult>{mult}))?"
    # "/" after the amount: a rate ("$25/hour", "€1,150/month") unless a digit follows ("€ 205/55")
    # after an amount written currency first, "M" is millions too ("$1.2M", "£2m"); alone "1.5m" is a length
    millions = rf"(?:\s?(?P<mult>{mult}|{CURRENCY_MILLION}(?!{LETTER}|[²2])))?"
    prefix = re.compile(rf"(?P<cur>{cur})\s?(?P<num>{NUM}){millions}(?!\d|/\d)")
    # a link word between multiplier and currency: "8 milhões de reais", "2 millions d'euros"
    linked = rf"(?:\s?(?P<mult>{mult})(?:\s(?:{MULT_LINKS})(?=\s)|\sd')?)?"
    suffix = re.compile(rf"{NOT_BEFORE_NUM}(?P<num>{NUM}){linked}\s?(?P<cur>{cur})")
    bare_mult = re.compile(rf"{NOT_BEFORE_NUM}(?P<num>{NUM})\s?(?P<mult>{mult})") if mults else None

    def words(path: str) -> str | None:
        """The alternation of the table list at ``path`` and of the lists ``PAY_WORDS`` adds to it."""
        parts = [p.pattern for q in (path, *PAY_WORDS.get(path, ())) if (p := pattern(q, langs)) is not None]
        return "|".join(parts) if parts else None

    def side(path: str, anchor: str) -> re.Pattern[str] | None:
        alt = words(path)
        if alt is None:
            return None
        if anchor == "end":
            gap = r"[^\d]{0,14}" if path.startswith("price.each") else r"\W{0,3}"
            return re.compile(rf"(?:{alt}){gap}$")
        if path in ("price.each", "price.total"):
            return re.compile(rf"^\W{{0,3}}(?:[^\W\d]{{1,5}}\W{{1,3}})?(?:{alt})")
        return re.compile(rf"^\W{{0,3}}(?:{alt})")

    before = {k: side(f"price.{k}_before", "end") for k in ("max", "min", "approx", "each", "former")}
    before["total"] = side("price.total", "end")
    after = {k: side(f"price.{k}_after", "start") for k in ("max", "min", "approx", "former")}
    after["each"] = side("price.each", "start")
    after["total"] = side("price.total", "start")
    bound_words = [w for w in (words("price.max_before"),) if w is not None]
    bare_bound = (
        # a range's upper end is the bound ("预算3800-4000", "budget 4-5 hundred": 500, not 4)
        re.compile(
            rf"(?P<pre>{bound_words[0]})\W{{0,3}}(?:{NUM}\s?[-–~]\s?)?(?P<num>{NUM}){mult_group}(?!\d|/\d)"
        )
        if bound_words
        else None
    )
    label_rx = pattern("price.label", langs)
    bare_label = (
        re.compile(rf"(?P<label>{label_rx.pattern})\W{{0,3}}(?P<num>{NUM}){mult_group}(?!\d|/\d|\s?[.,]\d)")
        if label_rx
        else None
    )
    after_mult = re.compile(rf"\s?(?:{mult})\.?") if mults else None
    after_words = [w for k in ("max", "approx") if (w := words(f"price.{k}_after")) is not None]
    rate_rx = pattern("price.rate_after", langs)
    rate_after = re.compile(rf"\s?(?:{rate_rx.pattern})") if rate_rx else None
    rate_opt = rf"(?:\s?(?:{rate_rx.pattern}))?" if rate_rx else ""
    bare_after = (
        re.compile(
            rf"{NOT_BEFORE_NUM}(?P<num>\d{{3,}}(?:[.,\s]\d{{3}})*)(?!'){rate_opt}"
            rf"(?=\s?(?:{'|'.join(after_words)}))"
        )
        if after_words
        else None
    )
    range_from, range_to = pattern("price.range_from", langs), pattern("price.range_to", langs)
    to_alt = r"[-–~〜～]" + (f"|{range_to.pattern}" if range_to else "")
    from_part = rf"(?:(?:{range_from.pattern})\s*)?" if range_from else ""
    range_low = re.compile(
        rf"{from_part}(?:(?:{cur})\s?)?{NOT_BEFORE_NUM}(?P<lo>{NUM})(?:\s?(?:{mult}))?(?:\s?(?:{cur}))?"
        rf"\s*(?:{to_alt})\s*$"
    )
    range_high = re.compile(
        rf"\s*(?:{to_alt})\s*(?P<hi>{NUM})(?:\s?(?P<mult>{mult}))?(?![\d.,]?\d|{LETTER}|\s?(?:{cur}))"
    )
    each_rx = pattern("price.each", langs)
    bare_each = (
        re.compile(rf"{NOT_BEFORE_NUM}(?P<num>{NUM})\s?(?P<each>{each_rx.pattern})") if each_rx else None
    )

    def word_before(words: re.Pattern[str] | None) -> re.Pattern[str] | None:
        """A number right after one of ``words`` ("每个300", "一共1500")."""
        if words is None:
            return None
        return re.compile(rf"(?:{words.pattern})\W{{0,3}}{NOT_BEFORE_NUM}(?P<num>{NUM})(?![\d.,]?\d|/\d)")

    bare_each_before = word_before(pattern("price.each_before", langs))
    total_rx = pattern("price.total", langs)
    bare_total_before = word_before(total_rx)
    lot_rx = pattern("price.lot_for", langs)
    lot = rf"(?<![\d.,/])(?P<count>\d{{1,2}})\s+(?:{lot_rx.pattern})" if lot_rx else None
    # not a range's upper end ("NCERT 6-12 पूरा सेट": classes 6 to 12, the whole set)
    bare_total = (
        re.compile(rf"{NOT_BEFORE_NUM}(?<!\d[-–])(?P<num>{NUM})\s?(?:{total_rx.pattern})")
        if total_rx
        else None
    )
    neg_rx = pattern("price.negotiable", langs)
    # the word after the number, or before it ("VB 150": then it is the conditional group ``pre``)
    bare_negotiable = (
        re.compile(
            rf"(?:(?P<pre>{neg_rx.pattern})\s?)?{NOT_BEFORE_NUM}(?P<num>{NUM})"
            rf"(?(pre)(?![\d.,]\d)|\s?(?:{neg_rx.pattern}))"
        )
        if neg_rx
        else None
    )
    labels = pattern("size_labels", langs)
    inch = pattern("inch", langs)
    # not a number of inches after the label ("مقاس 29 إنش": a wheel, not a frame size)
    not_inch = rf"(?!\s?(?:{inch.pattern}))" if inch else ""
    labelled = (
        re.compile(
            rf"(?:{labels.pattern})\s*:?\s*(\d{{1,2}}(?:[.,]5)?|{SIZE_LETTERS})(?![\w]|[.,]\d){NOT_RANGE}{not_inch}"
        )
        if labels
        else None
    )
    # a size before its label ("Mサイズ", "M码", "42 numara", "265 사이즈": a Korean shoe size in
    # millimetres); the label follows the size directly, so it is not wrapped as a word of its own
    after_labels = _alt([str(w) for lang in langs for w in field(lang, "size_labels_after")])
    size_after = (
        re.compile(
            rf"(?<![0-9a-zа-я/月])(?<!\d[.,])(\d{{2,3}}(?:[.,]5)?|{SIZE_LETTERS})\s?(?:{after_labels})(?![a-zа-я线線楼樓])"
        )
        if after_labels
        else None
    )
    screen = re.compile(rf"(?<![\d.])(\d{{2}})(?:[.,]\d)?\s?(?:{inch.pattern})") if inch else None
    nums = number_words(langs)
    num_alt = _alt([re.escape(w) for w in nums])
    number = rf"\d{{1,3}}|{num_alt}" if num_alt else r"\d{1,3}"
    sets: list[str] = []
    for lang in langs:
        for entry in table(lang).get("quantity", {}).get("set", []):
            # the count is a whole number: not the tail of "7800x3d" (a processor) nor of "1.5x"
            count = rf"(?<![\d.,])(?P<n{len(sets)}>{number})(?![\d.,]\d|\d)"
            sets.append(wrap(str(entry).replace("#", count), lang))
    qty_set = re.compile("|".join(sets)) if sets else None
    pairs = pattern("quantity.pair", langs)
    counters = pattern("quantity.counters", langs)
    qty_counter = (
        re.compile(rf"(?<![\d.,/\-])(?P<n>\d{{1,4}}|{num_alt or '(?!x)x'})\s?(?:{counters.pattern})")
        if counters
        else None
    )
    qty_word = re.compile(
        rf"(?<![\w.,/$€£\-+])(?P<n>\d{{1,4}}|{num_alt or '(?!x)x'})\s+(?P<w>(?:{LETTER}){{2,}})"
    )
    joins = [p.pattern for p in (pattern("quantity.or", langs), pattern("price.range_to", langs)) if p]
    join = rf"\s?[-–~〜]\s?|\s(?:{'|'.join(joins)})\s" if joins else r"\s?[-–~〜]\s?"
    qty_range = re.compile(
        rf"(?<![\w.,/$€£\-+])(?P<lo>\d{{1,3}})(?:{join})(?P<n>\d{{1,3}})\s+(?P<w>(?:{LETTER}){{2,}})"
    )
    not_after = pattern("quantity.not_after", langs)
    per = pattern("price.per", langs)
    times = pattern("quantity.times_after", langs)
    qty_not_after = re.compile(rf"(?:{not_after.pattern})\s*$") if not_after is not None else None
    unit_parts = [rf"(?:{re.escape(str(u))})(?!{LETTER})" for u in common()["units"]]
    for lang in langs:
        unit_parts += [wrap(str(u), lang) for u in table(lang).get("units", [])]
    unit = re.compile(rf"\s*(?:{_alt(unit_parts)})")
    flaws = pattern("quantity.flaws", langs)
    paired = pattern("quantity.paired", langs)
    qty_paired = (
        re.compile(rf"\s?(?:(?:{LETTER}|[\d-])+\s){{0,3}}(?:{paired.pattern})")
        if paired is not None
        else None
    )
    qty_flaw = re.compile(rf"\s?(?:(?:{LETTER})+\s)?(?:{flaws.pattern})") if flaws is not None else None
    conds = tuple(
        (c, p)
        for c in ("like_new", "refurbished", "used", "new")
        if (p := pattern(f"condition.{c}", langs)) is not None
    )
    seasons = tuple(
        (s, p) for s in ("all_season", "winter", "summer") if (p := pattern(f"season.{s}", langs)) is not None
    )
    color_names: dict[str, None] = {}
    for lang in langs:
        for name in table(lang).get("colors", {}):
            color_names[str(name)] = None
    colors = tuple((c, p) for c in color_names if (p := pattern(f"colors.{c}", langs)) is not None)
    genders = tuple((g, p) for g in ("male", "female") if (p := pattern(f"gender.{g}", langs)) is not None)
    schedules = tuple(
        (s, p) for s in ("weekend", "weekdays") if (p := pattern(f"schedule.{s}", langs)) is not None
    )
    set_readers = {key: _named(key, langs) for key in SET_KEYS}
    return Patterns(
        colors=colors,
        sets=set_readers,
        genders=genders,
        schedules=schedules,
        currency=tuple(cur_tagged),
        prefix=prefix,
        suffix=suffix,
        bare_mult=bare_mult,
        bare_bound=bare_bound,
        bare_each=bare_each,
        bare_each_before=bare_each_before,
        bare_total_before=bare_total_before,
        lot_before=re.compile(rf"{lot}\s*$") if lot else None,
        bare_lot=re.compile(rf"{lot}\s*(?P<num>{NUM})(?![\d.,]?\d|/\d)") if lot else None,
        bare_only=re.compile(rf"{NOT_BEFORE_NUM}(?P<num>{NUM})\s?/-"),
        bare_total=bare_total,
        bare_negotiable=bare_negotiable,
        bare_label=bare_label,
        label_units=tuple((re.compile(k), float(v)) for k, v in mapping("price.label_units", langs).items()),
        bare_after=bare_after,
        rate_after=rate_after,
        after_mult=after_mult,
        range_low=range_low,
        range_high=range_high,
        before=before,
        after=after,
        mult=tuple((re.compile(m), f) for m, f in mults),
        negotiable=pattern("price.negotiable", langs),
        labelled_size=labelled,
        size_after=size_after,
        screen=screen,
        qty_set=qty_set,
        qty_pair=pairs,
        qty_counter=qty_counter,
        qty_word=qty_word,
        qty_range=qty_range,
        qty_not_after=qty_not_after,
        qty_times=re.compile(rf"\s*(?:{times.pattern})") if times is not None else None,
        qty_flaw=qty_flaw,
        qty_paired=qty_paired,
        per_thing=re.compile(
            rf"(?:(?:{per.pattern})\s+|/\s?)(?P<w>(?:{LETTER})+)" if per else rf"/\s?(?P<w>(?:{LETTER})+)"
        ),
        unit=unit,
        numbers=nums,
        conditions=conds,
        seasons=seasons,
        currency_word=re.compile(cur),
        money_after=re.compile(rf"\s?(?:{cur})"),
    )
