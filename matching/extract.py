# ruff: noqa: E501  (regex and word tables: one entry per line reads better than split strings)
"""Attribute extractors: sizes, storage, screen, prices with currency, quantities, condition, brand, model.

Each extractor finds spans in the lower-cased text, records a canonical English value, and blanks the span
so that later extractors (and the item-word normaliser) don't read the same characters twice. Order:
tire size, labelled size, storage/RAM, screen, model, price, quantity, condition, season, brand.
Contradictions (two different tire sizes, "new" and "used") become warnings, never a silent choice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources

#: Texts longer than this are refused by ``understand`` before any regex runs (bounds the work).
MAX_EXTRACT_CHARS = 4000

DOLLAR_CURRENCIES = frozenset({"USD", "CAD", "AUD", "NZD", "MXN", "HKD", "SGD", "TWD", "ARS", "CLP", "COP"})
PESO_CURRENCIES = frozenset({"MXN", "ARS", "CLP", "COP", "UYU", "PHP", "DOP", "CUP"})

_CURRENCY_WORDS: list[tuple[str, str]] = [
    (r"r\$", "BRL"),
    (r"us\$", "USD"),
    (r"ca\$", "CAD"),
    (r"a\$", "AUD"),
    (r"€", "EUR"),
    (r"£", "GBP"),
    (r"¥|￥", "CNY"),
    (r"\$", "$"),
    (r"欧元|歐元", "EUR"),
    (r"美元|美金", "USD"),
    (r"人民币|块钱|块|元", "CNY"),
    (r"英镑", "GBP"),
    (r"euros?\b|eur\b", "EUR"),
    (r"usd\b|dollars?\b|d[óo]lares\b|dollares\b|d[óo]lar\b", "USD"),
    (r"reais\b|real\b|brl\b", "BRL"),
    (r"pesos?\b|mxn\b", "PESO"),
    (r"yuan\b|rmb\b|cny\b", "CNY"),
    (r"pounds?\b|libras?\b|gbp\b|livres?\b|pfund\b", "GBP"),
    (r"francs?\b|franken\b|chf\b", "CHF"),
    (r"cad\b", "CAD"),
]
_CUR_ALT = "|".join(f"(?:{p})" for p, _ in _CURRENCY_WORDS)
_NUM = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PRICE_PREFIX = re.compile(rf"(?P<cur>{_CUR_ALT})\s?(?P<num>{_NUM})(?![\d/])")
_PRICE_SUFFIX = re.compile(rf"(?<![0-9a-z/.,])(?P<num>{_NUM})\s?(?P<cur>{_CUR_ALT})")
_EACH = (
    r"each|apiece|per (?:tire|tyre|unit|piece|item|one)|cada (?:una|uno)|cada|por unidad|por pieza|la unidad|"
    r"chacun|chacune|pi[èe]ce|l'unit[ée]|pro st[üu]ck|je st[üu]ck|das st[üu]ck|st[üu]ck|a unidade|por unidade|"
    r"每个|每条|每只|每台|每件|一个|一条|/each|/unit|/pc|/u\b|c/u|ea\b"
)
_TOTAL = (
    r"total|for all|for the (?:set|lot|pair)|por (?:todas|todos|el juego|el lote)|en total|el juego|insgesamt|zusammen|"
    r"f[üu]r alle|pour le tout|le lot|pour les|pelo conjunto|por tudo|o jogo|no total|共|一共|总共|总价|全部"
)
_EACH_RE = re.compile(rf"^\W{{0,3}}(?:{_EACH})")
_TOTAL_RE = re.compile(rf"^\W{{0,3}}(?:{_TOTAL})")
_MAX_RE = re.compile(
    r"(?:max(?:imum|imo|ímo|\.)?|máximo|m[aá]x|up to|at most|no more than|budget|hasta|como mucho|presupuesto|"
    r"bis zu|bis|h[öo]chstens|maximal|jusqu'?[àa]|au plus|pas plus de|budget de|at[ée]|no m[aá]ximo|or[çc]amento|"
    r"最多|不超过|预算|以内|以下)\W{0,3}$"
)
_MIN_RE = re.compile(
    r"(?:at least|min(?:imum|imo|ímo|\.)?|mínimo|al menos|mindestens|au moins|minimum|pelo menos|no m[íi]nimo|"
    r"至少|最低)\W{0,3}$"
)
_BARE_PRICE = re.compile(
    rf"(?P<pre>max(?:imum|imo)?|máximo|up to|at most|hasta|bis zu|h[öo]chstens|jusqu'?[àa]|au plus|at[ée]|"
    rf"budget|presupuesto|or[çc]amento|最多|不超过|预算)\W{{0,3}}(?P<num>{_NUM})(?![\d/])|"
    rf"(?<![0-9a-z/.,])(?P<num2>{_NUM})\s?(?P<each>each|apiece|cada (?:una|uno)|chacun|chacune|pro st[üu]ck|je st[üu]ck)"
)
_NEGOTIABLE = re.compile(
    r"\b(?:negotiable|obo|or best offer|negociable|a convenir|verhandelbar|vb|verhandlungsbasis|[àa] d[ée]battre|"
    r"n[ée]gociable|negoci[áa]vel|a combinar)\b|可议|可商量|可小刀"
)

_TIRE_SIZE = re.compile(r"(?<!\d)(\d{3})\s?/\s?(\d{2})\s?(z?r|-)\s?(\d{2})(?!\d)")
_LABELLED_SIZE = re.compile(
    r"(?:\bsize|\btalla|\btaille|\bgr[öo](?:ß|ss)e|\btamanho|\bn[úu]mero|\bpointure|尺码|码数|尺寸)\s*:?\s*"
    r"(?P<v>\d{1,2}(?:[.,]5)?|xxs|xs|s|m|l|xl|xxl|xxxl)\b"
)
_SIZE_SUFFIX_CJK = re.compile(r"(?<!\d)(\d{2})\s?(?:码|號|号)")
_STORAGE = re.compile(
    r"(?<![\d.])(\d{1,4})\s?(gb|go|g|tb|to)(?![a-z])(?P<ram>\s?(?:de\s|of\s)?(?:ram|memoria ram|arbeitsspeicher))?"
)
_STORAGE_OK = {"gb": {8, 16, 32, 64, 128, 256, 512, 1024}, "tb": {1, 2, 4, 8}}
_SCREEN = re.compile(
    r"(?<![\d.])(\d{2})(?:[.,]\d)?\s?(?:\"|''|”|inch(?:es)?\b|in\b|pulgadas\b|zoll\b|pouces\b|polegadas\b|英寸|寸)"
)

_MODELS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            r"(?<![a-z0-9])iphone\s?(1[0-9]|[3-9]|se|x[rs]?)(?:\s?(pro max|pro|mini|plus))?(?![a-z0-9.,])(?!\s?(?:[€$£¥元欧美块]|eur|usd|dollar|d[óo]lar))"
        ),
        "iphone",
        "apple",
    ),
    (re.compile(r"(?<![a-z0-9])galaxy\s?([sazn]\d{1,2})(?:\s?(ultra|plus|fe|\+))?"), "galaxy", "samsung"),
    (re.compile(r"(?<![a-z0-9])pixel\s?(\d{1,2}a?)(?:\s?(pro|xl))?(?![a-z0-9])"), "pixel", "google"),
    (re.compile(r"(?<![a-z0-9])(?:ps|playstation\s?)([3-5])(?![a-z0-9])"), "ps", "sony"),
    (re.compile(r"(?<![a-z0-9])xbox\s?(series\s?[xs]|one)(?![a-z0-9])"), "xbox", "microsoft"),
    (re.compile(r"(?<![a-z0-9])(?:nintendo\s)?switch(?:\s?(oled|lite))?(?![a-z0-9])"), "switch", "nintendo"),
    (re.compile(r"(?<![a-z0-9])macbook\s?(air|pro)?(?:\s?(m[1-4]))?(?![a-z0-9])"), "macbook", "apple"),
    (re.compile(r"(?<![a-z0-9])ipad\s?(pro|air|mini)?(?![a-z0-9])"), "ipad", "apple"),
    (re.compile(r"(?<![a-z0-9])redmi\s?(note\s?\d{1,2})(?![a-z0-9])"), "redmi", "xiaomi"),
]

BRANDS: dict[str, str] = dict(
    json.loads(resources.files("matching").joinpath("data/brands.json").read_text(encoding="utf-8"))["brands"]
)
_BRAND_RE = re.compile(
    "|".join(
        (re.escape(b) if not b.isascii() else rf"\b{re.escape(b)}\b")
        for b in sorted(BRANDS, key=len, reverse=True)
    )
)

_CONDITIONS: list[tuple[str, str]] = [
    (
        r"\blike new\b|\bas new\b|\bcomo nuev[oa]s?\b|\bwie neu\b|\bneuwertig\w*|\bcomme neu(?:f|ve)s?\b|"
        r"\bcomo nov[oa]s?\b|\bseminov[oa]s?\b|九成新|九五新|几乎全新|99新",
        "like_new",
    ),
    (
        r"\brefurbished\b|\breacondicionad[oa]s?\b|\bgeneral[üu]berholt\w*|\breconditionn[ée]e?s?\b|\brecondicionad[oa]s?\b|翻新",
        "refurbished",
    ),
    (
        r"\bused\b|\bsecond[- ]hand\b|\busad[oa]s?\b|\bde segunda mano\b|\bseminuev[oa]s?\b|\bgebraucht\w*|"
        r"\bd'occasion\b|\boccasion\b|\busag[ée]e?s?\b|\bde segunda m[ãa]o\b|二手|旧的|用过",
        "used",
    ),
    (
        r"\bbrand new\b|\bnew\b|\bnuev[oa]s?\b|\bneu(?:e[nrsm]?)?\b|\bneu(?:f|ve)s?\b|\bnov[oa]s?\b|全新|新的|未拆封",
        "new",
    ),
]
_SEASONS: list[tuple[str, str]] = [
    (
        r"all[- ]season|todo tiempo|todas las estaciones|ganzjahres\w*|4 saisons|quatre saisons|toutes saisons|"
        r"quatro esta[çc][õo]es|四季",
        "all_season",
    ),
    (r"winter\w*|\binvierno\b|de nieve|\bhiver\b|\binverno\b|冬季|雪地|冬天", "winter"),
    (r"summer\b|\bverano\b|sommer\w*|\bd'[ée]t[ée]\b|\bver[ãa]o\b|夏季", "summer"),
]

_NUMBER_WORDS: dict[str, int] = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "dozen": 12,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "docena": 12,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "dois": 2,
    "duas": 2,
    "três": 3,
    "quatro": 4,
    "sete": 7,
    "oito": 8,
    "nove": 9,
    "dez": 10,
}
_CJK_NUM = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_UNITS = frozenset(
    [
        "km",
        "kms",
        "kg",
        "g",
        "gr",
        "cm",
        "mm",
        "m",
        "inch",
        "inches",
        "pulgadas",
        "zoll",
        "pouces",
        "polegadas",
        "year",
        "years",
        "yr",
        "yrs",
        "año",
        "años",
        "jahr",
        "jahre",
        "an",
        "ans",
        "ano",
        "anos",
        "month",
        "months",
        "mes",
        "meses",
        "monat",
        "monate",
        "mois",
        "hour",
        "hours",
        "h",
        "hr",
        "hrs",
        "hora",
        "horas",
        "stunde",
        "stunden",
        "heure",
        "heures",
        "gb",
        "tb",
        "mb",
        "mp",
        "mah",
        "hz",
        "w",
        "v",
        "l",
        "liter",
        "liters",
        "litros",
        "litres",
        "cc",
        "ghz",
        "mhz",
        "bedrooms",
        "bedroom",
        "habitaciones",
        "habitación",
        "zimmer",
        "chambres",
        "chambre",
        "quartos",
        "quarto",
        "m2",
        "people",
        "personas",
        "personnes",
        "personen",
        "pessoas",
        "seats",
        "plazas",
        "asientos",
        "lugares",
        "places",
        "sitze",
        "days",
        "day",
        "días",
        "dias",
        "tage",
        "tag",
        "jours",
        "jour",
        "times",
        "veces",
        "mal",
        "fois",
        "vezes",
        "doors",
        "puertas",
        "türen",
        "portes",
        "portas",
        "min",
        "minutes",
        "minutos",
        "minuten",
        "km/h",
        "mph",
        "miles",
        "mi",
        "pm",
        "am",
        "uhr",
        "x",
        "pro",
        "max",
        "mini",
        "plus",
        "ultra",
        "de",
        "of",
        "euros",
        "euro",
        "dollars",
        "dollar",
        "dólares",
        "reais",
        "pesos",
        "yuan",
        "pounds",
        "libras",
        "francs",
    ]
)
_QTY_WORD = re.compile(
    r"(?<![\w.,/$€£])(?P<n>\d{1,4}|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\s+(?P<w>[^\W\d_]{2,})"
)
_QTY_SET = re.compile(
    r"\b(?:set of|juego de|jogo de|jeu de|lot de|satz|set von|kit de|pack of|lote de)\s+(\d{1,3}|"
    + "|".join(_NUMBER_WORDS)
    + r")\b|(?<![\w.])(\d{1,3})\s?(?:er[- ]?satz|x)(?![\w])|\bx\s?(\d{1,3})\b"
)
_QTY_PAIR = re.compile(r"\b(?:a pair of|pair of|un par de|une paire de|um par de|ein paar)\b|一对|一双")
_QTY_CJK = re.compile(
    r"(\d{1,4}|[一二两三四五六七八九十]{1,3})\s?(?:个|條|条|只|台|部|件|张|套|辆|本|双|把|对|份|块|盒|箱)"
)


@dataclass
class PriceInfo:
    """A price found in text: major-unit amount, ISO currency (or None if only a number), basis and bound."""

    amount: float
    currency: str | None
    per_unit: bool | None  # None: the text didn't say
    bound: str | None  # "max", "min" or None
    text: str


@dataclass
class Extraction:
    """What the extractors found, plus the text with every consumed span blanked."""

    attributes: dict[str, str] = field(default_factory=dict)
    price: PriceInfo | None = None
    quantity: int | None = None
    warnings: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    rest: str = ""


def parse_number(text: str) -> float | None:
    """Parse ``80``, ``80.50``, ``80,50``, ``1.200``, ``1,200.50``, ``1 200`` -> float (None if not a number)."""
    t = text.strip().replace(" ", "")
    if not t:
        return None
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", t):
        return float(re.sub(r"[.,]", "", t))
    m = re.fullmatch(r"(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?", t)
    if not m:
        return None
    whole = re.sub(r"[.,]", "", m.group(1))
    frac = m.group(2) or "0"
    return float(f"{whole}.{frac}")


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _currency(token: str, default_currency: str | None, warnings: list[str]) -> str:
    for pattern, code in _CURRENCY_WORDS:
        if re.fullmatch(pattern.replace(r"\b", ""), token):
            if code == "$":
                if default_currency in DOLLAR_CURRENCIES:
                    return default_currency
                return "USD"
            if code == "PESO":
                if default_currency in PESO_CURRENCIES:
                    return default_currency
                warnings.append("'pesos' without a country: assumed MXN")
                return "MXN"
            return code
    return default_currency or "USD"


def _price_context(text: str, start: int, end: int) -> tuple[bool | None, str | None]:
    after = text[end : end + 24]
    before = text[max(0, start - 28) : start]
    per_unit: bool | None = None
    if _EACH_RE.search(after) or re.search(r"(?:cada|each|je|pro|每个|每条)\W{0,3}$", before):
        per_unit = True
    elif _TOTAL_RE.search(after) or re.search(rf"(?:{_TOTAL})\W{{0,12}}$", before):
        per_unit = False
    bound = "max" if _MAX_RE.search(before) else ("min" if _MIN_RE.search(before) else None)
    return per_unit, bound


def _extract_price(text: str, default_currency: str | None, ex: Extraction) -> str:
    found: list[tuple[int, int, PriceInfo]] = []
    for rx in (_PRICE_PREFIX, _PRICE_SUFFIX):
        for m in rx.finditer(text):
            amount = parse_number(m.group("num"))
            if amount is None:
                continue
            if any(s < m.end() and m.start() < e for s, e, _ in found):
                continue
            cur = _currency(m.group("cur"), default_currency, ex.warnings)
            per_unit, bound = _price_context(text, m.start(), m.end())
            found.append((m.start(), m.end(), PriceInfo(amount, cur, per_unit, bound, m.group(0).strip())))
    if not found:
        for m in _BARE_PRICE.finditer(text):
            num = m.group("num") or m.group("num2")
            amount = parse_number(num)
            if amount is None:
                continue
            per_unit, bound = _price_context(text, m.start(), m.end())
            if m.group("each"):
                per_unit = True
            if m.group("pre"):
                bound = "max"
            found.append(
                (m.start(), m.end(), PriceInfo(amount, default_currency, per_unit, bound, m.group(0).strip()))
            )
            break
    if not found:
        return text
    found.sort(key=lambda f: f[0])
    amounts = {(p.amount, p.currency) for _, _, p in found}
    if len(amounts) > 1:
        bounds = {p.bound for _, _, p in found}
        if not ({"min", "max"} <= bounds):
            ex.warnings.append(
                "several prices: "
                + ", ".join(p.text for _, _, p in found)
                + f"; used the first ({found[0][2].text})"
            )
            ex.uncertain.append("price")
    ex.price = found[0][2]
    for s, e, _ in found:
        text = _blank(text, s, e)
    return text


def _extract_quantity(text: str, ex: Extraction) -> str:
    m = _QTY_SET.search(text)
    if m:
        raw = next(g for g in m.groups() if g)
        ex.quantity = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        return _blank(text, m.start(), m.end())
    m2 = _QTY_CJK.search(text)
    if m2:
        raw = m2.group(1)
        value = int(raw) if raw.isdigit() else _cjk_int(raw)
        if value:
            ex.quantity = value
            return _blank(text, m2.start(1), m2.end(1))
    m3 = _QTY_PAIR.search(text)
    if m3:
        ex.quantity = 2
        return _blank(text, m3.start(), m3.end())
    for m4 in _QTY_WORD.finditer(text):
        raw, word = m4.group("n"), m4.group("w")
        if word in _UNITS:
            continue
        value = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        if not 1 <= value <= 999:
            continue
        ex.quantity = value
        return _blank(text, m4.start("n"), m4.end("n"))
    return text


def _cjk_int(raw: str) -> int:
    if raw == "十":
        return 10
    if len(raw) == 1:
        return _CJK_NUM.get(raw, 0)
    if len(raw) == 2 and raw[0] == "十":
        return 10 + _CJK_NUM.get(raw[1], 0)
    if len(raw) == 2 and raw[1] == "十":
        return 10 * _CJK_NUM.get(raw[0], 0)
    if len(raw) == 3 and raw[1] == "十":
        return 10 * _CJK_NUM.get(raw[0], 0) + _CJK_NUM.get(raw[2], 0)
    return 0


def _set_attr(ex: Extraction, key: str, value: str) -> None:
    old = ex.attributes.get(key)
    if old is not None and old != value:
        ex.warnings.append(f"contradictory {key}: {old} and {value}; kept {old}")
        if key not in ex.uncertain:
            ex.uncertain.append(key)
        return
    ex.attributes[key] = value


def extract(text: str, default_currency: str | None = None) -> Extraction:
    """Run every extractor on ``text``.

    Args:
        text: the user's text (any language); at most ``MAX_EXTRACT_CHARS`` characters are read.
        default_currency: ISO code used for a bare "$" (if a dollar currency) or a price without currency.

    Returns:
        An ``Extraction``; ``rest`` is the lower-cased text with consumed spans blanked.
    """
    ex = Extraction()
    t = text[:MAX_EXTRACT_CHARS].lower()
    for m in _TIRE_SIZE.finditer(t):
        rim = m.group(3).upper().replace("-", "R")
        _set_attr(ex, "size", f"{m.group(1)}/{m.group(2)}{rim}{m.group(4)}")
        t = _blank(t, m.start(), m.end())
    for rx in (_LABELLED_SIZE, _SIZE_SUFFIX_CJK):
        for m in rx.finditer(t):
            _set_attr(ex, "size", m.group(1).upper().replace(",", "."))
            t = _blank(t, m.start(), m.end())
    for m in _STORAGE.finditer(t):
        unit = "tb" if m.group(2) in ("tb", "to") else "gb"
        value = int(m.group(1))
        if value not in _STORAGE_OK[unit]:
            continue
        key = "ram" if m.group("ram") else "storage"
        _set_attr(ex, key, f"{value}{unit.upper()}")
        t = _blank(t, m.start(), m.end())
    for m in _SCREEN.finditer(t):
        _set_attr(ex, "screen", f"{m.group(1)}in")
        t = _blank(t, m.start(), m.end())
    for rx, family, brand in _MODELS:
        for m in rx.finditer(t):
            parts = [family] + [g.replace(" ", "") for g in m.groups() if g]
            _set_attr(ex, "model", " ".join(parts))
            _set_attr(ex, "brand", brand)
            t = _blank(t, m.start(), m.end())
    t = _extract_price(t, default_currency, ex)
    neg = _NEGOTIABLE.search(t)
    if neg:
        ex.attributes["negotiable"] = "yes"
        t = _blank(t, neg.start(), neg.end())
    t = _extract_quantity(t, ex)
    conditions: list[str] = []
    for pattern, cond in _CONDITIONS:
        for cm in re.finditer(pattern, t):
            if cond not in conditions:
                conditions.append(cond)
            t = _blank(t, cm.start(), cm.end())
    if conditions:
        ex.attributes["condition"] = conditions[0]
        if {"new", "used"} <= set(conditions):
            ex.warnings.append(f"contradictory condition: {' and '.join(conditions)}; kept {conditions[0]}")
            ex.uncertain.append("condition")
    for pattern, season in _SEASONS:
        sm = re.search(pattern, t)
        if sm:
            _set_attr(ex, "season", season)
            t = _blank(t, sm.start(), sm.end())
            break
    for m in _BRAND_RE.finditer(t):
        _set_attr(ex, "brand", BRANDS[m.group(0)])
    ex.rest = t
    return ex
