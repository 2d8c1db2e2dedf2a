"""Language-neutral match signals beside the embedding: identifier tokens and soft attribute conflicts.

* **Identifiers**: brand and model tokens survive translation ("Bowflex 552", "GA-2100", "S23 256GB" read the
  same in a Hindi, Japanese or Spanish text). ``identifiers(text)`` keeps every Latin-script token that
  carries a digit (split at letter/digit boundaries, so "552s" gives "552") and every Latin word of three
  letters or more that is not a stopword of any language, and a word and a number written next to each other
  joined ("AirPods Pro 2" has "pro2", as "Pro2" has; "256 GB" has "256gb"): a model designator reads the same
  written apart or together, and a short word of it ("pro", a stopword in Portuguese) still tells "Pro 2"
  from "3rd gen". Two Latin words joined by a hyphen, one of them shorter than three letters, are joined too
  ("FZ-S" has "fzs", "CR-V" "crv"). A Japanese era year ("H30年式") gives its Gregorian year ("2018") too.
  ``coverage(query, candidate, weights)`` is the
  weighted share of the query's identifiers the candidate also has: a long ad is not penalised for saying
  more. The index gives the weights (``LocalIndex._id_weights``): only identifiers some indexed intent has,
  each by its rarity.
* **Model designators**: a word and a number read as one identifier ("Pad 6", "XPS 13", "UK 8", "N2",
  "modelo 2021"). A candidate that names the query's designator only with another number ("Pad 5") is most
  likely the other generation or size of the same thing, and counts as one conflict
  (``designator_conflict``). Decided on the three tuning sets (non-English top-1, with the volumes below):
  tune .918 -> .918, tune2 .851 -> .852, tune3 .845 -> .852 (the Xiaomi Pad 6 against the Pad 5, JLPT N2
  against N3, New Balance 550 against 530); no buyer lost its match.
* **Generations**: a designator followed by a generation ("X-T30 II", "A7 III", "5D Mark IV", "Mk2") gives one
  more identifier, "t30~2"; a candidate naming the query's model in another generation, or in one where the
  query names none (or the reverse), counts as one conflict (``generation_conflict``): "X-T30 II" is another
  camera than "X-T30". Tuning sets (non-English top-1): tune3 .923 -> .926 (the buyers of an X-T30 had found
  the II), tune, tune2 and tune4 unchanged; held-out unchanged.
* **Accessories**: a candidate that names the query's designator only in what its item is for ("Étui pour
  casque Bose QC45", "Funda para Xiaomi Pad 6", "Dock ... perfetto per XPS") is an accessory of the thing the
  query wants, and counts as one conflict too (``accessory_conflict``, ``main_identifiers``). Tuning sets
  (non-English top-1): tune .918 -> .918, tune2 .860 -> .860, tune3 .856 -> .861; no buyer lost its match.
* **Soft conflicts**: both sides state a colour, dimensions, a weight, a length or a volume, and they differ
  ("black" vs "white", "200x300" vs "80x150", "12 L" vs "8 litres"; a length or a volume within
  ``MEASURE_TOLERANCE``): the candidate stays (a human may not care) but ranks lower. Volumes and lengths in
  centimetres, on the tuning sets: tune3 .836 -> .845 (a 12 L couscoussier against an 8 L one, 0.5 L bottles
  against 0.33 L, 7 cm figurines against 12 cm), tune and tune2 unchanged.
  A ride's route ("sydney>newcastle" against "sydney>canberra", ``gazetteer``) was one of them (tune3 .876 ->
  .887); it is now a hard attribute (``score.DEFAULT_HARD_KEYS``), and counts here only for an index
  configured without it.
  So is a vehicle's or a device's model year (``model_year``, ``YEAR_GROUPS``: "FZ-S modelo 2016" for a
  buyer of a 2021 one, "拯救者Y9000P 2022款" for a 2023): tune .918 -> .918, tune2 .860 -> .862, tune3 .887 ->
  .889; no buyer lost its match (the same with only cars, motorcycles, boats and laptops: tune3 .887).
  So is gender (``extract``: a male kitten against a female one, a barber for men against a hairdresser for
  women): tune3 .914 -> .923, tune4 .816 -> .818, tune, tune2 and held-out unchanged; no buyer lost its match.
  So are a job's or a service's days (``schedule``: weekends against weekdays, a barista for the weekend
  against one for weekday evenings): tune .926 -> .939, tune2 .889 -> .893, tune3, tune4 and held-out
  unchanged; no buyer lost its match. So is a parking space's cover (``parking``, read once the category is
  parking, ``extract.parking_cover``: a covered bay against an open one in a villa's yard): tune2 .893 ->
  .900, the other sets and held-out unchanged; no buyer lost its match.
  So are the sets of animals, roles, human languages and times of day a text names (``patterns.SET_KEYS``: a
  cat sitter against a dog boarder, a waitress against a cashier, an IELTS tutor against a Chinese one, an
  afternoon babysitter against a night nanny; two sides conflict when they share no value), and each shared
  one is a key match: tune .941 -> .972, tune2 .912 -> .927, tune3 .930 unchanged, tune4 .834 -> .851,
  held-out .881 -> .883; one buyer lost its match (a courier asked for by role, which a motorbike courier's
  ad names and the van's does not). Without the key match: tune .969, tune2 .923, tune4 .843. The meat a
  food is made of, read the same way, changed no tuning set and was left out.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from matching.cues import stopwords
from matching.extract import normalise
from matching.lexicon import common, languages
from matching.patterns import SET_KEYS, compiled

#: Attributes whose disagreement lowers a candidate's score (each one counts once).
SOFT_CONFLICT_KEYS = (
    "color",
    "dimensions",
    "weight",
    "length",
    "volume",
    "route",
    "year",
    "gender",
    "schedule",
    "parking",
    "bedrooms",
    *SET_KEYS,
)
#: At most this many identifiers are kept per text (bounds the work on long texts).
MAX_IDENTIFIERS = 48
_WORD = re.compile(r"[a-z0-9]+")
_PARTS = re.compile(r"[a-z]+|\d+")
#: What may stand between a word and a number that are read as one identifier too ("GA-2100", "RTX 3080").
_JOINERS = (" ", "-")
#: A Latin word is an identifier alone from this many letters; a shorter one only joined to its neighbour by a
#: hyphen ("FZ-S", "CR-V", "N-BOX"). Decided on the three tuning sets (non-English top-1, with the hyphen
#: names): tune .913 -> .913, tune2 .803 -> .806, tune3 .823 -> .823.
_MIN_WORD = 3
#: A Japanese era year ("H30年式", "平成30年", "令和元年": 2018, 2018, 2019), read as the Gregorian year
#: too, so that "2018" in another language finds it. Era -> the year before its first.
_ERAS = {"s": 1925, "昭和": 1925, "h": 1988, "平成": 1988, "r": 2018, "令和": 2018}
_ERA_YEAR = re.compile(r"(?<![a-z0-9])([shr])(\d{1,2})年|(昭和|平成|令和)\s?(\d{1,2}|元)\s?年")


#: A generation after a model designator ("X-T30 II", "A7 III", "5D Mark IV", "Mk2"): read with the designator
#: as one more identifier, "t30~2" (``generation_conflict``).
_GENERATION = re.compile(
    r"[ \-](?:mark ?|mk ?)?(iv|iii|ii)(?![a-z0-9])|[ \-]?(?:mark ?|mk ?)([2-6])(?![a-z0-9])"
)
_ROMAN = {"ii": "2", "iii": "3", "iv": "4"}


def identifiers(text: str | None) -> frozenset[str]:
    """Brand/model-like tokens of ``text`` (see the module docstring); empty for None."""
    if not text:
        return frozenset()
    stop = stopwords()
    out: dict[str, None] = {}
    folded = _fold(normalise(text))
    prev: re.Match[str] | None = None
    for m in _WORD.finditer(folded):
        w = m.group(0)
        if prev is not None and (sep := folded[prev.end() : m.start()]) in _JOINERS:
            a = prev.group(0)
            if (a.isalpha() and w.isdigit()) or (a.isdigit() and w.isalpha()):
                out[a + w] = None  # "Pro 2" -> "pro2", "256 GB" -> "256gb": written apart or together alike
            elif sep == "-" and a.isalpha() and w.isalpha() and min(len(a), len(w)) < _MIN_WORD:
                out[a + w] = None  # "FZ-S" -> "fzs", "CR-V" -> "crv": a name whose parts are too short alone
        prev = m
        parts = _PARTS.findall(w)
        for p in parts:
            if p.isdigit():
                if len(p) >= 2 or len(parts) > 1:
                    out[p] = None
            elif len(p) >= _MIN_WORD and p not in stop:
                out[p] = None
        if len(parts) > 1:
            out[w] = None
            if (g := _GENERATION.match(folded, m.end())) is not None:
                out[f"{w}~{_ROMAN.get(g.group(1) or '', g.group(2))}"] = None
        if len(out) >= MAX_IDENTIFIERS:
            break
    for year in _era_years(folded):
        if len(out) >= MAX_IDENTIFIERS:
            break
        out[year] = None
    return frozenset(out)


def _era_years(folded: str) -> list[str]:
    """The Gregorian years of the Japanese era years in ``folded`` ("H30年式" -> "2018")."""
    out = []
    for era in _ERA_YEAR.finditer(folded):
        name, n = (era.group(1), era.group(2)) if era.group(1) else (era.group(3), era.group(4))
        out.append(str(_ERAS[name] + (1 if n == "元" else int(n))))
    return out


#: A model year: 1980-2039 alone, not in a date ("08/2026", "12.12.2025", "2025-12-01"), a range
#: ("2018-2023"), an open bound ("2018+"), a price or a distance ("2000 €", "$1999", "2000 km", "1999 TL"):
#: not before a unit below or a currency of the language tables (``Patterns.currency_word``), nor after a
#: currency symbol. The units include spellings of currencies the tables do not know yet.
_NOT_YEAR_UNITS = r"km|cc|kg|lei|dh|mad|jod|cop|دينار"


@cache
def _year() -> re.Pattern[str]:
    currency = compiled(languages()).currency_word.pattern
    return re.compile(
        r"(?<![\d/.\-:€$£¥₹₽₩₺₫])(?<![€$£¥₹₽₩₺₫] )(19[89]\d|20[0-3]\d)"
        rf"(?![\d/.:]|\s?[-–~]\s?\d|\s?\+|\s?(?:{_NOT_YEAR_UNITS}|{currency}))"
    )


#: The taxonomy groups whose intents carry a model year ("modelo 2016", "2023款", "2021 г.в."): a vehicle's or
#: a device's year nearly always is its model's.
YEAR_GROUPS = frozenset({"vehicles", "electronics"})


def model_year(text: str | None) -> str | None:
    """The one year ``text`` names (a Japanese era year as its Gregorian year), or None when it names none
    or several ("bought in 2022, a 2021 model" is not read)."""
    if not text:
        return None
    folded = _fold(normalise(text))
    years = {m.group(1) for m in _year().finditer(folded)} | set(_era_years(folded))
    return years.pop() if len(years) == 1 else None


#: A model designator: a word and a number read as one identifier ("pad6", "xps13", "n2", "modelo2021").
_DESIGNATOR = re.compile(r"([a-z]+)(\d{1,5})")


def designators(ids: frozenset[str]) -> dict[str, str]:
    """The model designators among ``ids`` (``identifiers``), name -> number: "Xiaomi Pad 6" has pad -> 6.
    A name that is a stopword ("de 128", "up to 230") or a currency ("Rs 450") is none: what follows it is a
    quantity or a price, which may differ between two ads for the same thing."""
    out: dict[str, str] = {}
    for t in ids:
        m = _DESIGNATOR.fullmatch(t)
        if m is not None and m.group(1) not in stopwords() and not _currency_word(m.group(1)):
            out.setdefault(m.group(1), m.group(2))
    return out


def designator_conflict(query: dict[str, str], candidate: frozenset[str]) -> bool:
    """True when the candidate names one of the query's designators with another number and never with the
    query's: "Pad 5" for a buyer of a "Pad 6", "XPS 15" for "XPS 13", "UK 6" for "UK 8", "modelo 2016" for
    "modelo 2021". ``query``: the query's ``designators``; ``candidate``: the candidate's ``identifiers``."""
    for name, number in query.items():
        if name + number in candidate:
            continue
        for t in candidate:
            if t.startswith(name) and t[len(name) :].isdigit():
                return True
    return False


def generation_conflict(query: frozenset[str], candidate: frozenset[str]) -> bool:
    """True when both name a model ("X-T30": "t30" in both ``identifiers``) and not the same generation of it:
    one names none and the other one ("X-T30 II"), or they name two ("A7 III", "A7 IV")."""
    q_gen, c_gen = generations(query), generations(candidate)
    return any(
        base in query and base in candidate and q_gen.get(base) != c_gen.get(base) for base in q_gen | c_gen
    )


def generations(ids: frozenset[str]) -> dict[str, str]:
    """Model -> generation of the "t30~2" identifiers among ``ids``."""
    return dict(t.split("~", 1) for t in ids if "~" in t)  # type: ignore[misc]


#: Words after which a text names what its item is for ("case for Bose QC45", "funda para Xiaomi Pad 6";
#: ``accessory_for`` of the common table, accents folded): prepositions only (a postposition, "XPS用", "için",
#: "के लिए", names the thing before it).
_FOR = re.compile(r"(?<![a-zа-я])(?:" + "|".join(common()["accessory_for"]) + r")(?![a-zа-я])")
_CLAUSE_END = re.compile(r"[.,;:!?()\n/]|$")


@lru_cache(maxsize=4096)
def main_identifiers(text: str | None) -> frozenset[str]:
    """``identifiers`` of ``text`` without what it says its item is for (from a "for" word to the end of the
    clause): a case "pour casque Bose QC45" is not a Bose QC45."""
    if not text:
        return frozenset()
    folded = _fold(normalise(text))
    kept, pos = [], 0
    for m in _FOR.finditer(folded):
        if m.start() < pos:
            continue
        end = _CLAUSE_END.search(folded, m.end())
        kept.append(folded[pos : m.start()])
        pos = end.start() if end else len(folded)
    if not kept:
        return identifiers(text)
    kept.append(folded[pos:])
    return identifiers(" . ".join(kept))


def accessory_conflict(query: dict[str, str], candidate: frozenset[str], text: str | None) -> bool:
    """True when the candidate names one of the query's designators only as what its item is for ("Étui pour
    casque Bose QC45" for a buyer of the headphones). ``candidate``: its ``identifiers``; ``text``: its text,
    read again (``main_identifiers``) only when it names a designator at all."""
    for name, number in query.items():
        said = {name, name + number}
        if said & candidate and not said & main_identifiers(text):
            return True
    return False


@lru_cache(maxsize=4096)
def _currency_word(word: str) -> bool:
    return compiled(languages()).currency_word.fullmatch(word) is not None


def _fold(text: str) -> str:
    """Latin letters without their accents ("batería" -> "bateria", "experiência" one word, not two)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def coverage(
    query: frozenset[str], candidate: frozenset[str], weights: dict[str, float] | None = None
) -> float:
    """Weighted share of the query's identifiers found in the candidate's (0 when none counts). ``weights``:
    the identifiers that count and their weights (the index's ``_id_weights``); None: every identifier of
    ``query``, alike."""
    counted = weights if weights is not None else dict.fromkeys(query, 1.0)
    total = sum(counted.values())
    return sum(w for t, w in counted.items() if t in candidate) / total if total > 0 else 0.0


def conflicts(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """The soft attributes both sides state and that share no value ("4x4,147x147" vs "2x4": a conflict)."""
    out = []
    for k in SOFT_CONFLICT_KEYS:
        if k in a and k in b and not _same(k, a[k], b[k]):
            out.append(k)
    return out


#: Attributes that name the thing precisely: when both sides state one and it is the same (a tire size, a
#: model, a capacity, dimensions), that is strong evidence of the right counterpart.
KEY_MATCH_KEYS = ("size", "model", "storage", "screen", "wheel", "capacity", *SOFT_CONFLICT_KEYS)


def key_matches(a: dict[str, str], b: dict[str, str]) -> int:
    """How many of ``KEY_MATCH_KEYS`` both sides state with the same value ("4x4" matches "4x4,147x147")."""
    return sum(1 for k in KEY_MATCH_KEYS if k in a and k in b and _same(k, a[k], b[k]))


#: Measures compared within ``MEASURE_TOLERANCE`` (their unit suffix): "320cm" and "330cm" are the same boat,
#: "5l" and "5.2l" the same can; "0.5l" and "0.33l" are not the same bottle.
_MEASURE_UNITS = {"length": "cm", "volume": "l"}
MEASURE_TOLERANCE = 0.1


def _same(key: str, a: str, b: str) -> bool:
    if (unit := _MEASURE_UNITS.get(key)) is not None:
        try:
            xs = [float(v.removesuffix(unit)) for v in a.split(",")]
            ys = [float(v.removesuffix(unit)) for v in b.split(",")]
        except ValueError:
            return a == b
        return any(abs(x - y) <= MEASURE_TOLERANCE * max(x, y) for x in xs for y in ys)
    return bool(set(a.split(",")) & set(b.split(",")))
