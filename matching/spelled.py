"""Numbers spelled out in words, and chained: "dos mil quinientos" (2,500), "две тысячи пятьсот", "iki bin
beş yüz", "deux mille cinq cents", "zweitausendfünfhundert", "ألفين وخمسمائة", "dua ribu lima ratus",
"दो हज़ार पाँच सौ".

Why: ``numerals.worded_numbers`` reads one number word before a word for thousands ("dos mil" -> "2 mil").
So "dos mil quinientos euros" was a price of 2,000 with no warning, and "iki bin beş yüz lira" was 2,000 and a
count of 5: the agent would have asked or bid the wrong amount. A chain is read here, before
``worded_numbers``, with each language's ``spelled`` table:

- ``values``: words past one to ten ("quinientos" 500, "пятьсот" 500, "zwanzig" 20, "ألفين" 2,000);
- ``hundreds``: words that multiply the number before them by a hundred ("cents", "hundert", "yüz", "सौ");
- ``tens`` and ``teens``: Indonesian "puluh" (times ten) and "belas" (plus ten);
- ``multipliers``: words for a thousand the price table has not (Italian "mille");
- ``joiners`` ("y", "e", "et", "und", "and", "و") and ``prefixes`` (Arabic "و" and "ب" glued to a number);
- ``compound``: the language writes a number as one word ("zweitausend", "duemila", "ikibin", "veinticinco");
- ``names``: number words more often a name, not read alone ("Cinquecento": a Fiat, and the 16th century).

One to ten are the language's ``numbers`` (and its ``counts_before_multipliers``: "пяти"), and the words for a
hundred or more its ``multipliers`` (``word_multipliers``).

What is read: a run of number words of one language worth a hundred or more, with more than one number word in
it ("dos mil quinientos", "cinq cents", "zweitausend"), one word worth two hundred or more ("quinientos",
"ألفين"), or one word worth a hundred right before a currency ("cien euros", "сто рублей"), unless it is
worth different amounts in two languages. A word for hundreds or thousands alone is not read: "a few hundred
dollars", "million dollar homes", "نص مليون" (half a million). A run right after digits is left to the price
patterns ("15 ribu", "2 mil quinientos").

How it is written: a run that ends with a word for thousands of the price table's multipliers keeps it
("veinte mil" -> "20 mil", as ``worded_numbers`` writes "dos mil" -> "2 mil"): a word for thousands tells
money. Any other run becomes digits ("dos mil quinientos" -> "2500", "one hundred folding chairs" -> "100
folding chairs"). Runs worth under a hundred stay words ("fifty dollars": the extractor asks for digits). A
run that is no number ("dos tres mil": two ones in a row; "mil mil") stays as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from matching.lexicon import (
    BORROWED_NUKTA_LETTERS,
    field,
    fold_nukta,
    languages,
    mapping,
    multipliers,
    number_words,
)

#: Longest run of number words read (characters; "dos millones novecientos noventa y nueve mil" is 44).
MAX_RUN_CHARS = 80
#: Longest single compound word split ("siebenhundertneunundneunzigtausend" is 34).
MAX_COMPOUND_CHARS = 48
#: Single words worth at least this are read alone ("quinientos", "ألفين"); "cien" and "сто" stay words.
MIN_ALONE_VALUE = 200


#: No letter (or Devanagari sign) may touch a run.
_BEFORE, _AFTER = r"(?<![\w\u0900-\u097f])", r"(?![\w\u0900-\u097f])"
#: A digit right before a run ("15 ribu", "2 mil quinientos"): the run is left to the price patterns.
_DIGIT_BEFORE = re.compile(r"\d[\s.,]*$")
#: Currency signs: after a number word alone, they make it money ("cien €").
_SIGNS = "[€$£₽₺₹¥₩]"
#: Multiplier words too short to follow a number word safely ("k", "tr", "jt": "one k"; "man": "one man").
_SHORT_MULTIPLIERS = frozenset({"man"})


def _nukta(alt: str) -> str:
    """A word pattern with the optional nukta of a borrowed sound ("हजार" matches "हज़ार" too)."""
    return re.sub(f"([{BORROWED_NUKTA_LETTERS}])", "\\1\u093c?", alt)


def _alternatives(rx: str) -> list[str]:
    """The top-level alternatives of a table regex ("rb|ribu|k" -> three; "тыс(?:яч[аи]?)?" one)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(rx):
        if ch == "(" and (i == 0 or rx[i - 1] != "\\"):
            depth += 1
        elif ch == ")" and rx[i - 1] != "\\":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(rx[start:i])
            start = i + 1
    return [*out, rx[start:]]


@cache
def word_multipliers(lang: str) -> tuple[tuple[str, float], ...]:
    """``(regex alternative, factor)`` of ``lang``'s words for a hundred or more that may follow a number
    word ("hundreds?", "тыс(?:яч[аи]?)?", "लाख", "mil"; not "k", "tr", "man": "one k", "one man"), a
    Devanagari nukta optional."""
    out = []
    for rx, factor in multipliers((lang,)):
        for alt in _alternatives(rx):
            literal = re.sub(r"\(.*?\)\??|\\.|[?*+]", "", alt)
            long_enough = len(literal) >= 3 or (len(literal) == 2 and not literal.isascii())
            if factor >= 100 and long_enough and literal not in _SHORT_MULTIPLIERS:
                out.append((_nukta(alt), factor))  # "हज़ार" too
    return tuple(out)


def big_multipliers(lang: str) -> list[str]:
    """The regex alternatives of ``word_multipliers``."""
    return [alt for alt, _ in word_multipliers(lang)]


@dataclass(frozen=True)
class _Table:
    """One language's spelled numbers: word -> (kind, value); kinds "unit", "hundred", "tens", "teens",
    "mult"; and the regex of a run."""

    kinds: dict[str, tuple[str, float]]
    patterns: tuple[tuple[re.Pattern[str], str, float], ...]  # regex alternatives (multipliers, "cents?")
    joiners: frozenset[str]
    prefixes: tuple[str, ...]
    compound: re.Pattern[str] | None
    run: re.Pattern[str]
    word: re.Pattern[str]  # one written number word of a run (a compound whole), its prefix in group "pre"
    kept: tuple[re.Pattern[str], ...]  # the price table's words for thousands: a run ending with one keeps it
    names: frozenset[str]  # number words that are more often names, not read alone
    gate: tuple[str, ...]  # the start of a word worth a hundred or more: no run is read without one
    money: re.Pattern[str]  # a currency word or sign right after a run: one number word alone is read


@cache
def _tables() -> tuple[_Table, ...]:
    out = []
    for lang in languages():
        spec = field(lang, "spelled")
        if not isinstance(spec, dict) or not spec:
            continue
        kinds: dict[str, tuple[str, float]] = {}
        ones = {**number_words((lang,)), **mapping("counts_before_multipliers", (lang,))}  # "пяти" 5
        for w, v in ones.items():
            if v in range(1, 11) and " " not in w:
                kinds[w.lower()] = ("unit", float(v))
        patterns: list[tuple[str, str, float]] = []
        for w, v in spec.get("values", {}).items():
            if re.search(r"[?*+()\[\]]", w):  # a pattern ("quatre-vingts?"), else a plain word
                patterns.append((_nukta(w), "unit", float(v)))
            else:
                kinds[w.lower()] = ("unit", float(v))
        for w in spec.get("hundreds", []):
            patterns.append((_nukta(w), "hundred", 100.0))
        for w in spec.get("tens", []):
            kinds[w] = ("tens", 10.0)
        for w in spec.get("teens", []):
            kinds[w] = ("teens", 10.0)
        for w, v in spec.get("multipliers", {}).items():
            patterns.append((_nukta(w), "mult", float(v)))
        kept = []
        for alt, factor in word_multipliers(lang):
            patterns.append((alt, "hundred" if factor == 100 else "mult", factor))
            if factor >= 1000:  # "one hundred folding chairs" is 100 chairs: hundreds become digits
                kept.append(re.compile(alt, re.IGNORECASE))
        compiled = tuple((re.compile(p, re.IGNORECASE), k, v) for p, k, v in patterns)
        joiners = frozenset(spec.get("joiners", []))
        prefixes = tuple(sorted(spec.get("prefixes", []), key=len, reverse=True))
        alts = sorted({*(_nukta(re.escape(w)) for w in kinds), *(p for p, _, _ in patterns)}, key=len)
        atom = "|".join(reversed(alts))
        pre = f"(?:{'|'.join(map(re.escape, prefixes))})?" if prefixes else ""
        glue = "und|" if spec.get("compound") and "und" in joiners else ""
        word = f"(?:{atom})(?:(?:{glue}{atom}))*" if spec.get("compound") else f"(?:{atom})"
        join = f"(?:(?:{'|'.join(map(re.escape, joiners))})[\\s-]+)?" if joiners else ""
        run = re.compile(
            rf"{_BEFORE}(?:{pre}{word})(?:[\s-]+{join}{pre}(?:{word}))*{_AFTER}",
            re.IGNORECASE,
        )
        compound = re.compile(f"(?:{glue}{atom})") if spec.get("compound") else None
        one = re.compile(rf"{_BEFORE}(?P<pre>{pre})(?:{word}){_AFTER}", re.IGNORECASE)
        big = [w for w, (_, v) in kinds.items() if v >= 100] + [
            p for p, kind, _ in patterns if kind in ("hundred", "mult")
        ]
        gate = tuple(sorted({_start(p).lower() for p in big}))  # "" (a pattern that opens a group): always
        names = frozenset(spec.get("names", []))
        currencies = [str(c[0]) for c in field(lang, "currency")] + [_SIGNS]
        money = re.compile(rf"\s?(?:{'|'.join(currencies)}){_AFTER}", re.IGNORECASE)
        out.append(
            _Table(kinds, compiled, joiners, prefixes, compound, run, one, tuple(kept), names, gate, money)
        )
    return tuple(out)


def _start(rx: str) -> str:
    """The literal start of a word pattern, what every match of it contains ("hundreds?" "hundred")."""
    m = re.match(r"[^\\()\[\]?*+.|{]*", rx)
    head = m.group(0) if m else ""
    return head[:-1] if rx[len(head) : len(head) + 1] in ("?", "*", "{") else head


def _atoms(table: _Table, word: str) -> list[tuple[str, float]] | None:
    """The (kind, value) of each number word in one written word (a compound split), None if it is none."""
    low = fold_nukta(word.lower())
    for prefix in table.prefixes:  # "وخمسمائة", and five hundred
        if low.startswith(prefix) and _kind(table, low[len(prefix) :]) is not None:
            low = low[len(prefix) :]
            break
    one = _kind(table, low)
    if one is not None:
        return [one]
    if table.compound is None or len(low) > MAX_COMPOUND_CHARS:
        return None
    parts = _split(table, low)
    if parts is None:
        return None
    return [k for p in parts if p != "und" for k in [_kind(table, p)] if k is not None]


def _split(table: _Table, word: str) -> list[str] | None:
    """``word`` as a sequence of number words (the longest first at each place), None if it is not one. Built
    from the end, each place once: at most ``MAX_COMPOUND_CHARS`` squared matches, whatever the word."""
    assert table.compound is not None
    rest: list[list[str] | None] = [None] * len(word) + [[]]  # rest[i]: the split of word[i:]
    for i in range(len(word) - 1, -1, -1):
        for end in range(len(word), i, -1):
            tail = rest[end]
            if tail is not None and table.compound.fullmatch(word, i, end):
                rest[i] = [word[i:end], *tail]
                break
    return rest[0]


def _kind(table: _Table, word: str) -> tuple[str, float] | None:
    if word in table.kinds:
        return table.kinds[word]
    for rx, kind, value in table.patterns:
        if rx.fullmatch(word):
            return kind, value
    return None


def chain_value(atoms: list[tuple[str, float]]) -> float | None:
    """The value of a chain of (kind, value) number words, None when they make no number ("dos tres", two
    ones; "mil mil"; "hundred hundred").

    Within a group (below a thousand) the ones, tens and hundreds each come at most once, in any order
    ("ثلاثة وعشرون" is three and twenty); a hundred word multiplies the ones and tens before it ("twenty five
    hundred", 2,500); a word for a thousand or more closes the group, and each must be smaller than the one
    before ("dos millones quinientos mil")."""
    total = 0.0
    big = small = 0.0  # the group's hundreds, and its ones and tens
    used: set[int] = set()  # the group's places: 0 ones, 1 tens, 2 hundreds
    last_mult = float("inf")
    for kind, value in atoms:
        if kind == "unit" and value >= 1000:  # "ألفين", "seribu": a thousands word with its count
            if big or small or value >= last_mult:
                return None
            total += value
            last_mult = 1000.0
            used = set()
        elif kind == "unit":
            place = 0 if value < 10 else 1 if value < 100 else 2
            if place in used:
                return None
            used.add(place)
            if place == 2:
                big += value
            else:
                small += value
        elif kind == "tens":  # "dua puluh" 20
            if 0 not in used or 1 in used:
                return None
            small *= value
            used = {1} | (used - {0})
        elif kind == "teens":  # "dua belas" 12
            if 1 in used or 0 not in used:
                return None
            small += value
            used.add(1)
        elif kind == "hundred":
            if 2 in used:
                return None
            big += (small or 1) * value
            small = 0
            used = {2}
        else:  # a word for a thousand or more
            if value >= last_mult:
                return None
            total += (big + small or 1) * value
            big = small = 0
            used = set()
            last_mult = value
    return total + big + small


def _values_everywhere(word: str) -> set[float]:
    """What one number word is worth in each language that has it."""
    out = set()
    for table in _tables():
        kind = _kind(table, word)
        if kind is not None:
            out.add(kind[1])
    return out


def plain_number(value: float) -> str:
    """A number as a human writes it in digits: 2500, 12.5, 8000000 (never "8e+06", as ``:g`` writes it)."""
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def _read(table: _Table, m: re.Match[str]) -> str:
    text = m.group(0)
    if len(text) > MAX_RUN_CHARS or _DIGIT_BEFORE.search(m.string, max(0, m.start() - 4), m.start()):
        return text  # "15 ribu yen", "300 тысяч вон": a multiplier after digits is the price patterns' own
    found = list(table.word.finditer(text))
    words = [w.group(0)[len(w.group("pre")) :] for w in found]
    lead = f"{found[0].group('pre')} " if found and found[0].group("pre") else ""  # "بألفين": "ب 2000"
    atoms: list[tuple[str, float]] = []
    for w in words:
        got = _atoms(table, w)
        if got is None:
            return text
        atoms += got
    value = chain_value(atoms) if atoms else None
    if value is None or value < 100:
        return text
    if len(atoms) == 1 and atoms[0][0] != "unit":
        return text  # "a few hundred dollars", "million dollar homes", "نص مليون" (half a million)
    money_after = table.money.match(m.string, m.end()) is not None  # "cien euros", "сто рублей"
    if len(atoms) == 1 and not money_after and value < MIN_ALONE_VALUE:
        return text
    if len(atoms) == 1 and len(_values_everywhere(words[0].lower())) > 1:
        return text  # "mil euros": a thousand in Spanish, a million in English
    if len(words) == 1 and words[0].lower() in table.names:  # "Cinquecento": a Fiat, or the 16th century
        return text
    last = words[-1]
    if len(words) > 1 and any(rx.fullmatch(last) for rx in table.kept):
        head = value / atoms[-1][1]
        if head == int(head):  # "veinte mil" -> "20 mil", "dua juta lima ratus ribu" -> "2500 ribu"
            return f"{lead}{plain_number(head)} {last}"
    return f"{lead}{plain_number(value)}"


def spelled_numbers(text: str) -> str:
    """``text`` with its chains of number words as digits (see the module's rules)."""
    low = text.lower()
    for table in _tables():
        if any(w in low for w in table.gate):
            text = table.run.sub(lambda m, t=table: _read(t, m), text)  # type: ignore[misc]
    return text
