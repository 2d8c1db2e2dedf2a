"""Brands and product lines: which a text names, and the categories their goods usually belong to.

The spellings live in ``data/brands.json`` (any script: "samsung", "삼성", "самсунг"), each mapped to a
canonical brand; a brand's categories are a ranking hint (``classify.attribute_boosts``), never a filter. A
product line ("galaxy tab", "thinkpad") names its category and the noun of its goods. Each spelling is found
as a whole word in its script's way (``_brand_frame``), and the spellings of one way are one trie of literals
(``lexicon.literal_trie``): the 5,145 of them cost a text 0.12 ms (0.10 ms when they were 1,440). ``extract``
reads both. A phone, console or earbuds model ("iphone 13 mini", "아이폰 13 미니", "galaxy s23 ultra", "ps 5",
"airpods pro 2") is read whole, in any script (``read_models``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

from matching.extraction import Extraction, blank
from matching.lang import detect_language
from matching.lexicon import LETTER, boundaries, literal_trie, read_data

#: The brands' spellings, their categories and product lines (module docstring).
BRANDS_FILE = "data/brands.json"
_BRANDS_DOC: dict[str, Any] = json.loads(read_data(BRANDS_FILE))
#: Brand spelling (any script) -> canonical brand.
BRANDS: dict[str, str] = {str(k): str(v) for k, v in _BRANDS_DOC["brands"].items()}
#: Canonical brand -> the categories its goods usually belong to (a ranking hint, ``classify``).
BRAND_CATEGORIES: dict[str, list[str]] = {
    str(k): [str(c) for c in v] for k, v in _BRANDS_DOC.get("categories", {}).items()
}
#: Product line or make spelling -> its category and the English noun of its goods ("galaxy tab" ->
#: (electronics/tablets, tablet)).
LINES: dict[str, tuple[str, str]] = {
    str(s): (str(code), str(v["noun"]))
    for code, v in _BRANDS_DOC["lines"].items()
    if code != "note"
    for s in v["spellings"]
}


#: A spelling in katakana (with the long-vowel mark and the middle dot).
_KATAKANA = re.compile(r"[\u30a0-\u30ff]+")
#: The case endings of a Russian noun in "-а" or "-я" (a brand spelled so: "тойота", "икея").
_RU_A_ENDINGS = "ами|ями|ой|ою|ей|ею|ам|ям|ах|ях|а|я|у|ю|ы|и|е"


def brand_of(spelling: str) -> str | None:
    """The canonical brand of a spelling ``find_brands`` found: a listed one, or a Russian one in any case."""
    if spelling in BRANDS:
        return BRANDS[spelling]
    return _RU_A_STEMS.get(re.sub(f"(?:{_RU_A_ENDINGS})$", "", spelling))


def _brand_frame(spelling: str, lang: str | None) -> tuple[str, str, str]:
    """How one brand spelling is found without matching inside another word, as (left context, literal,
    right context): a Latin one between non-letters and non-digits; a katakana one not after katakana
    ("ニコン" is not in "ミニコンポ"); a Russian one followed by at most two letters (a case ending:
    "самсунгом"), or one in "-а" or "-я" with that letter any of their case endings ("продам тойоту", not
    "прадед"); any other delimited as its language's words are (``lexicon.wrap``: Chinese and Japanese
    anywhere, Korean not after a letter, the rest between non-letters: "ابل" is not Apple inside "مقابل")."""
    if lang is None:
        return r"(?<![a-z0-9])", spelling, r"(?![a-z0-9])"
    if _KATAKANA.fullmatch(spelling):
        return r"(?<![\u30a0-\u30ff])", spelling, ""
    if lang == "ru":
        if spelling[-1] in "ая":  # the ending changes with the case: "тойоту", "ямахи", "икею"
            return rf"(?<!{LETTER})", spelling[:-1], rf"(?:{_RU_A_ENDINGS})(?!{LETTER})"
        return rf"(?<!{LETTER})", spelling, rf"(?=(?:{LETTER}){{0,2}}(?!{LETTER}))"
    left, right = boundaries(lang)
    return left, spelling, right


def _brand_pattern(spelling: str, lang: str | None) -> str:
    """One brand spelling's pattern (``_brand_frame``)."""
    left, literal, right = _brand_frame(spelling, lang)
    return f"{left}(?:{re.escape(literal)}){right}"


def _brands_pattern(spellings: Iterable[str]) -> re.Pattern[str]:
    """Every spelling's pattern as one: the spellings of one frame share it, their literals in one trie
    (``lexicon.literal_trie``)."""
    frames: dict[tuple[str, str], list[str]] = {}
    for s in spellings:
        left, literal, right = _brand_frame(s, _spelling_lang(s))
        frames.setdefault((left, right), []).append(literal)
    return re.compile(
        "|".join(f"{left}{literal_trie(lits)}{right}" for (left, right), lits in frames.items())
    )


def _spelling_lang(spelling: str) -> str | None:
    """A spelling's language (its script's, ``detect_language``), None for a Latin one without accents."""
    return None if spelling.isascii() else detect_language(spelling)[0] or "en"


_RU_A_STEMS = {b[:-1]: v for b, v in BRANDS.items() if b[-1] in "ая" and _spelling_lang(b) == "ru"}
_BRAND_RE = _brands_pattern(BRANDS)


def find_brands(text: str) -> list[re.Match[str]]:
    """The brand spellings normalised ``text`` names, in text order (``brand_of`` reads each)."""
    return list(_BRAND_RE.finditer(text))


def _parts(spelling: str) -> list[str]:
    """A line spelling's parts: "fz-s" -> fz, s."""
    return re.split(r"[-\s]", spelling)


def _line_pattern(spelling: str) -> str:
    """A Latin line spelling with "-" or a space between its parts matches with either or none ("fz-s",
    "fz s", "fzs"); it is delimited as a brand is, but digits may follow ("galaxy tab" in "galaxy tab s9")."""
    if not spelling.isascii():
        return _brand_pattern(spelling, _spelling_lang(spelling))
    e = r"[-\s]?".join(re.escape(part) for part in _parts(spelling))
    return rf"(?<![a-z0-9]){e}(?![a-z{'0-9' if spelling[-1].isdigit() else ''}])"


def _line_groups() -> dict[str, list[str]]:
    """Spellings by their first part ("galaxy" -> galaxy tab, galaxy buds, ...), longest first. One
    alternation of every spelling cost 0.6 ms a text (understand batch 366 -> 304 texts/s); a text is tried
    only on the groups whose first part it holds (``_line_keys``)."""
    groups: dict[str, list[str]] = {}
    for spelling in LINES:
        groups.setdefault(_parts(spelling)[0], []).append(spelling)
    return {key: sorted(spellings, key=len, reverse=True) for key, spellings in groups.items()}


_LINE_GROUPS = _line_groups()


@functools.cache
def _group_rx(key: str) -> re.Pattern[str]:
    """One group's pattern, a capturing group per spelling, compiled when a text first holds its first part:
    the 1,706 groups compiled at import took 0.4 s of every process's start, and a text holds a few."""
    return re.compile("|".join(f"({_line_pattern(sp)})" for sp in _LINE_GROUPS[key]))


#: A line group's first part that is one Latin word ("galaxy", "fz"): found among a text's words' prefixes.
_WORD = re.compile(r"[a-z0-9]+")
_WORD_KEYS = frozenset(k for k in _LINE_GROUPS if _WORD.fullmatch(k))
#: Every other first part ("갤럭시", "biti's"), by its first character: tried only when the text has it.
_KEYS_BY_CHAR: dict[str, list[str]] = {}
for _key in _LINE_GROUPS:
    if _key not in _WORD_KEYS:
        _KEYS_BY_CHAR.setdefault(_key[0], []).append(_key)
_KEY_ORDER = {k: i for i, k in enumerate(_LINE_GROUPS)}


def _line_keys(text: str) -> list[str]:
    """The line groups whose first part ``text`` holds, in ``_LINE_GROUPS`` order (the order ties are kept
    in). With 2,150 line spellings, asking every group's first part cost 0.24 ms a text; this 0.04."""
    keys = {k for c in _KEYS_BY_CHAR.keys() & set(text) for k in _KEYS_BY_CHAR[c] if k in text}
    for word in set(_WORD.findall(text)):
        keys.update(word[:n] for n in range(1, len(word) + 1) if word[:n] in _WORD_KEYS)
    return sorted(keys, key=_KEY_ORDER.__getitem__)


def product_lines(text: str) -> list[tuple[str, int, int]]:
    """The product lines normalised ``text`` names: (spelling in ``brands.json``, start, end), in text order,
    none overlapping (the longer of two starting together)."""
    found: list[tuple[str, int, int]] = []
    for key in _line_keys(text):
        spellings = _LINE_GROUPS[key]
        found += [
            (spellings[(m.lastindex or 1) - 1], m.start(), m.end()) for m in _group_rx(key).finditer(text)
        ]
    out: list[tuple[str, int, int]] = []
    for hit in sorted(found, key=lambda h: (h[1], h[1] - h[2])):
        if not out or hit[1] >= out[-1][2]:
            out.append(hit)
    return out


#: A phone family's name as ads write it in each script ("아이폰 13", "айфон 13", "आईफोन 13").
_IPHONE = r"(?:iphone|아이폰|アイフォーン|アイフォン|айфон|ايفون|آيفون|आईफोन|आइफोन)"
_GALAXY = r"(?:galaxy|갤럭시|ギャラクシー|галакси|جالاكسي|جالكسي|गैलेक्सी)"
_REDMI = r"(?:redmi|레드미|レドミ|редми|ريدمي|रेडमी|红米)"
#: Apple's earbuds in each script, and a generation after them ("AirPods Pro 2", "에어팟 프로 2세대", "AirPods
#: 3rd gen", "AirPods Pro (2. Generation)"): read only with its number, as "airpods pro" alone names none. The
#: name stays in the text: it is a product line as well (``LINES``: their category and noun).
_AIRPODS = r"(?:airpods|에어팟|エアーポッズ|エアポッズ|эйрподс|аирподс|ايربودز|एयरपॉड्स)"
_PRO_WORD = r"pro|프로|プロ|про|برو|प्रो"
_ORDINAL = r"st|nd|rd|th|ª|º|°|e|ème|a|\."
_GENERATION = (
    r"gen(?:eration|eración|ération|erazione|eração|erasi)?\.?|세대|世代|代|поколени[еяи]|nesil|thế hệ|جيل"
)
#: A variant's words in each script (spaces dropped) -> its Latin word: a model is a hard attribute, and
#: "iphone 13 mini" is not "iphone 13", so a variant written in Hangul must not be left out.
MODEL_VARIANTS: dict[str, str] = {
    **dict.fromkeys(("promax", "프로맥스", "プロマックス", "промакс", "بروماكس", "प्रोमैक्स"), "promax"),
    **dict.fromkeys(("pro", "프로", "プロ", "про", "برو", "प्रो"), "pro"),
    **dict.fromkeys(("mini", "미니", "ミニ", "мини", "ميني", "मिनी"), "mini"),
    **dict.fromkeys(("plus", "플러스", "プラス", "плюс", "بلس", "प्लस"), "plus"),
    **dict.fromkeys(("ultra", "울트라", "ウルトラ", "ультра", "الترا", "अल्ट्रा"), "ultra"),
    **dict.fromkeys(("air", "에어", "エア", "エアー", "эйр", "аир", "اير", "آير", "एयर"), "air"),
    **dict.fromkeys(("lite", "라이트", "ライト", "лайт", "لايت", "लाइट"), "lite"),
    **dict.fromkeys(("oled", "有機el", "有机el", "올레드"), "oled"),
}
#: The variants of the other families only (a Galaxy's "ultra", a MacBook's "air", a Switch's "lite"/"oled").
_NOT_IPHONE = frozenset(v for v, w in MODEL_VARIANTS.items() if w in ("ultra", "air", "lite", "oled"))
#: The variants, each allowed a space where "pro max" has one; longest first.
_VARIANT = "|".join(
    sorted(
        set(MODEL_VARIANTS) - _NOT_IPHONE
        | {"pro max", "프로 맥스", "プロ マックス", "про макс", "برو ماكس", "प्रो मैक्स"},
        key=len,
        reverse=True,
    )
)


def _words(*latin: str) -> str:
    """The spellings of ``latin`` variants in every script, longest first, as one alternation."""
    return "|".join(sorted((v for v, w in MODEL_VARIANTS.items() if w in latin), key=len, reverse=True))


#: Other products' names in each script (the Latin one first).
_MACBOOK = r"(?:macbook|맥북|マックブック|макбук|ماك ?بوك|मैकबुक)"
_IPAD = r"(?:ipad|아이패드|アイパッド|айпад|ايباد|آيباد|आईपैड)"
_PLAYSTATION = (
    r"(?:ps|playstation\s?|플스|플레이스테이션\s?|プレステ|プレイステーション\s?|пс|плейстейшн\s?"
    r"|بلايستيشن\s?|بلاي ستيشن\s?|प्लेस्टेशन\s?)"
)
_NINTENDO = r"(?:nintendo|닌텐도|ニンテンドー|任天堂|нинтендо|نينتندو|निंटेंडो)"
_SWITCH = r"(?:switch|스위치|スイッチ|свитч|سويتش|स्विच)"
_ONEPLUS = r"(?:oneplus|one plus|원플러스|一加|ワンプラス|ванплас|ون ?بلس|वनप्लस)"
_XIAOMI = r"(?:xiaomi|샤오미|小米|シャオミ|сяоми|ксиоми|شاومي|शाओमी)"
_GALAXY_TAB = r"(?:galaxy\s?tab|갤럭시\s?탭|ギャラクシー\s?タブ|галакси\s?таб|جالاكسي\s?تاب|गैलेक्सी\s?टैब)"
#: Before "switch": a switch that is no Nintendo console (a network switch, a light switch).
_NOT_A_CONSOLE = "".join(
    f"(?<!{w} )"
    for w in (
        "port", "ports", "gigabit", "ethernet", "network", "managed", "poe", "kvm", "light", "wall", "dimmer",
        "toggle", "rocker", "power", "pressure", "float", "limit", "reed", "micro", "foot", "pedal", "key",
    )
)  # fmt: skip
#: After a number that is a weight or a count, not a model ("小米5斤", five jin of millet; "苹果12个").
_NOT_A_COUNT = r"(?!\s?(?:斤|公斤|千克|克|kg|g|个|個|颗|顆|箱|袋|块|塊|元|块钱))"

_GALAXY_VARIANT = "|".join(
    sorted((v for v, w in MODEL_VARIANTS.items() if w in ("ultra", "plus")), key=len, reverse=True)
)
#: "Note" of a Redmi Note in each script.
_NOTE_WORDS = ("note", "노트", "ノート", "ноут", "нот", "نوت", "नोट")
_NOTE = f"(?:{'|'.join(_NOTE_WORDS)})"
#: After a model: no letter or digit of Latin script and no number going on ("iphone 13, 200" is the
#: iPhone 13; "iphone 1,200" is not a model).
_MODEL_END = r"(?![a-z0-9]|[.,]\d)"

MODELS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            rf"(?<![a-z0-9]){_IPHONE}\s?(1[0-9]|[3-9]|se|x[rs]?)(?:\s?({_VARIANT}))?{_MODEL_END}"
            r"(?!\s?(?:[€$£¥元欧美块]|eur|usd|dollar|d[óo]lar))"
        ),
        "iphone",
        "apple",
    ),
    (  # "苹果15 Pro Max": the iPhone by the brand's name alone, with a recent number and no count after it
        re.compile(rf"苹果\s?(1[1-7])(?:\s?({_VARIANT}))?{_MODEL_END}{_NOT_A_COUNT}"),
        "iphone",
        "apple",
    ),
    (
        re.compile(rf"(?<![a-z0-9]){_GALAXY}\s?([sazn]\d{{1,2}})(?:\s?(fe|\+|{_GALAXY_VARIANT}))?"),
        "galaxy",
        "samsung",
    ),
    (re.compile(r"(?<![a-z0-9])pixel\s?(\d{1,2}a?)(?:\s?(pro|xl))?(?![a-z0-9])"), "pixel", "google"),
    (
        re.compile(
            rf"(?<![a-z0-9])(?P<name>{_AIRPODS})\s?({_PRO_WORD})?\s?\(?\s?(?:第\s?)?([1-4])(?![.,]?\d)\s?"
            rf"(?:{_ORDINAL})?\s?(?:{_GENERATION})?(?![a-z0-9])"
        ),
        "airpods",
        "apple",
    ),
    (re.compile(rf"(?<![a-z0-9а-я]){_PLAYSTATION}([3-5])(?![a-z0-9])"), "ps", "sony"),
    (re.compile(r"(?<![a-z0-9])xbox\s?(series\s?[xs]|one)(?![a-z0-9])"), "xbox", "microsoft"),
    (
        re.compile(
            rf"(?<![a-z0-9])(?:{_NINTENDO}\s?{_SWITCH}|{_NOT_A_CONSOLE}switch(?!\s?(?:covers?|plates?|sockets?)))"
            rf"(?:\s?({_words('oled', 'lite')}))?(?![a-z0-9])"
        ),
        "switch",
        "nintendo",
    ),
    (
        re.compile(rf"(?<![a-z0-9]){_MACBOOK}\s?({_words('air', 'pro')})?(?:\s?(m[1-4]))?(?![a-z0-9])"),
        "macbook",
        "apple",
    ),
    (
        re.compile(
            rf"(?<![a-z0-9])(?P<name>{_GALAXY_TAB})\s?([sa]\d{{1,2}})(?:\s?(fe|\+|{_GALAXY_VARIANT}))?(?![a-z0-9])"
        ),
        "galaxy tab",
        "samsung",
    ),
    (re.compile(rf"(?<![a-z0-9]){_IPAD}\s?({_words('pro', 'air', 'mini')})?(?![a-z0-9])"), "ipad", "apple"),
    (
        re.compile(rf"(?<![a-z0-9]){_ONEPLUS}\s?(\d{{1,2}}[rt]?)(?:\s?(pro))?{_MODEL_END}{_NOT_A_COUNT}"),
        "oneplus",
        "oneplus",
    ),
    (
        re.compile(
            rf"(?<![a-z0-9]){_XIAOMI}\s?(\d{{1,2}}t?)(?:\s?({_words('pro', 'ultra', 'lite')}))?"
            rf"{_MODEL_END}{_NOT_A_COUNT}"
        ),
        "xiaomi",
        "xiaomi",
    ),
    (re.compile(r"(?<![a-z0-9])xps\s?(1[3-7])(?![a-z0-9])"), "xps", "dell"),
    (
        # with its generation only ("X1 Carbon Gen 9", "第9代", "9. Generation"): generations differ as
        # models do, and "X1 Carbon" alone names none of them (no conflict with every generation)
        re.compile(
            r"(?<![a-z0-9])(?:thinkpad\s?)?x1\s?(carbon|yoga|nano)\s?(?:gen\.?\s?(\d{1,2})"
            rf"|\(?\s?(?:第\s?)?(\d{{1,2}})\s?(?:{_ORDINAL})?\s?(?:{_GENERATION}))(?![a-z0-9])"
        ),
        "thinkpad x1",
        "lenovo",
    ),
    (
        re.compile(rf"(?<![a-z0-9]){_REDMI}\s?({_NOTE}\s?\d{{1,2}})(?:\s?({_VARIANT}))?{_MODEL_END}"),
        "redmi",
        "xiaomi",
    ),
]


def model_part(group: str) -> str:
    """A model's number or variant in its Latin form: "프로 맥스" -> "promax", "नोट 13" -> "note13"."""
    word = group.replace(" ", "")
    for note in _NOTE_WORDS:
        if word.startswith(note):
            return "note" + word[len(note) :]
    return MODEL_VARIANTS.get(word, word)


def read_models(text: str, ex: Extraction) -> str:
    """Put the phone and console models of ``text`` (normalised) into ``ex`` ("model", "brand"), each
    blanked in the returned text so that no later extractor reads its number as a count or a price."""
    for mrx, family, brand in MODELS:
        name = mrx.groupindex.get("name")  # a name that is a product line too ("airpods") is left to be read
        for m in mrx.finditer(text):
            parts = [family] + [model_part(g) for k, g in enumerate(m.groups(), 1) if g and k != name]
            ex.put("model", " ".join(parts))
            ex.put("brand", brand)
            text = blank(text, m.end(name) if name else m.start(), m.end())
    return text
