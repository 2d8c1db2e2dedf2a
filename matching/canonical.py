"""The canonical (English-vocabulary) rendering of an intent: what is embedded and what is displayed.

``render`` = category label, English glosses of the item words found in the labelled bank, the normalised item
words, and the canonical attributes in a fixed order, e.g.
``"Tires and wheels. tires. llantas camioneta. size 225/65R17; condition used"``. Action, price, quantity and
location are never part of it: they are filters, applied outside the vector space. The glosses give texts in
languages the embedder knows little (Hindi, Vietnamese, Indonesian) an English anchor.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from matching.bank import Gloss, glosses
from matching.brands import LINES
from matching.cues import service_hint, stopwords, strip_cues
from matching.extract import extract
from matching.extraction import Extraction
from matching.lexicon import CLAUSE_END, LETTER, field, fold, pattern
from matching.loans import DEVANAGARI, loan_glosses, loans
from wire.intent import Intent
from wire.taxonomy import taxonomy

#: Attributes that describe the thing (rendered); others (negotiable, ...) are terms, not the item.
#: Attributes embedded with the item (what it is); measurements and condition are compared separately.
RENDERED_KEYS = ("model", "brand", "season")
#: Attributes shown to the human in the canonical rendering.
DISPLAY_KEYS = (
    "model", "brand", "size", "capacity", "storage", "ram", "screen", "wheel", "dimensions", "weight",
    "length", "volume", "color",
    "season", "condition",
)  # fmt: skip
MAX_ITEM_CHARS = 64
MAX_GLOSSES = 3
#: How far after a phrase an ``accessory.after`` word is looked for (characters; the word itself included).
MAX_ACCESSORY_GAP = 12
#: An item word: letters with their combining marks (``lexicon.LETTER``: "[^\W\d_]" alone cut "केटलबेल"
#: into "क", "टलब", "ल", and a Hindi text's item words were such pieces), digits after the first letter, parts
#: joined by an apostrophe or a hyphen; or a run of Han or kana.
_TOKEN = re.compile(
    rf"(?:{LETTER})(?:{LETTER}|\d)*(?:['-](?:{LETTER})+)*|[\u3400-\u9fff\u3040-\u30ff]+", re.UNICODE
)
_CJK = re.compile(r"[\u3400-\u9fff\u3040-\u30ff]")


_HIRAGANA = re.compile(r"[\u3040-\u309f]")
#: What counts things in Chinese and Japanese: a counter after one of these is a counter ("2台", "一本").
_NUMERALS = frozenset("0123456789０１２３４５６７８９一二两三四五六七八九十百千万几半每这那")
#: What a counter first in a run may follow: where extraction took a number out (a space), "/" (per).
_AFTER_NUMBER = frozenset("/0123456789")


@functools.cache
def _cjk_chars(name: str, langs: tuple[str, ...]) -> frozenset[str]:
    """The characters of the language tables' ``name`` over ``langs`` (Chinese and Japanese if neither)."""
    own = [lang for lang in langs if field(lang, name)] or ["zh", "ja"]
    return frozenset("".join(str(field(lang, name)) for lang in own))


def cjk_item(run: str, langs: tuple[str, ...], after_number: bool = False) -> str:
    """A run of Han or kana without the filler of its languages (``cjk_filler``, ``cjk_counters`` in the
    tables). A counter goes only after a numeral ("一本") or first in a run ``after_number`` (extraction
    leaves a space where "2" of "2台" was, or it was "/台"): the "本" of "笔记本" (laptop), the "箱" of "冰箱"
    (fridge), the "着" of "水着" (swimsuit) are the word's own. A Han filler ("的", "我") goes anywhere; a
    hiragana particle ("を", "の") unless hiragana follows it and nothing or hiragana precedes it: there
    it is a letter of a word written in hiragana ("かばん", "はさみ"; a word's last, "めがね", still goes).
    Dropped anywhere, as until session 26, each cut the words it was part of, and Chinese filler cut
    Japanese words ("在庫", "要相談")."""
    filler, counters = _cjk_chars("cjk_filler", langs), _cjk_chars("cjk_counters", langs)
    out = []
    for i, c in enumerate(run):
        prev = run[i - 1] if i else ""
        if c in counters:
            if prev in _NUMERALS if prev else after_number:
                continue
        elif c in filler:
            nxt = run[i + 1] if i + 1 < len(run) else ""
            inside = nxt and _HIRAGANA.match(nxt) and (not prev or _HIRAGANA.match(prev))
            if not (_HIRAGANA.match(c) and inside):
                continue
        out.append(c)
    return "".join(out)


def item_words(text: str, ex: Extraction | None = None) -> str:
    """The words of ``text`` that describe the item: prices, sizes, quantities, cues and stopwords removed.

    A Devanagari word is kept only as the English word it borrows (``loans``: "केटलबेल" -> "kettlebell").
    use-m3 does not know Hindi: its vectors of two unrelated Hindi ads are as close as those of two ads for
    the same thing (.61), so Hindi words in the item rendering pulled every Hindi text toward every other; the
    raw text's vector still holds them. Decided on the three tuning sets (non-English top-1 / category
    agreement), with the loanwords' glosses: tune .918 / .939 -> .918 / .939, tune2 .852 / .816 -> .855 /
    .822, tune3 .852 / .731 -> .857 / .733. Hindi alone (top-1 / agreement): tune2 .753 / .671 -> .795 / .753,
    tune3 .833 / .700 -> .900 / .733, tune unchanged. Keeping the other Hindi words, whole, cost top-1 (tune2
    .850) and tune's agreement (.936).

    Args:
        text: the user's original text.
        ex: its extraction, if already computed.

    Returns:
        Lower-case words joined by spaces, at most ``MAX_ITEM_CHARS`` characters (may be empty).
    """
    ex = ex if ex is not None else extract(text)
    rest = strip_cues(ex.rest, ex.langs)
    stop = stopwords(ex.langs)
    english = {rest[a:b]: w for a, b, w in loans(rest, stop)}  # "केटलबेल" -> "kettlebell"
    words: list[str] = []
    for m in _TOKEN.finditer(rest):
        tok = m.group()
        if DEVANAGARI.match(tok):  # only its English loanwords (see the docstring)
            if tok not in english:
                continue
            tok = english[tok]
        if _CJK.match(tok):
            before = rest[m.start() - 1] if m.start() else ""
            tok = cjk_item(tok, ex.langs, before.isspace() or before in _AFTER_NUMBER)
            if not tok:
                continue
        elif tok in stop or len(tok) < 2:
            continue
        if tok not in words:
            words.append(tok)
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > MAX_ITEM_CHARS:
            break
        out = f"{out} {w}" if out else w
    return out


def find_glosses(ex: Extraction, lines: bool = True) -> list[Gloss]:
    """The bank phrases a text mentions (``bank.glosses`` on its extraction's rest), and those its English
    loanwords in Devanagari form (``loans.loan_glosses``) where no phrase was found, in text order. With
    ``lines``, a product line the text names (``Extraction.names``) is glossed as the noun of its goods
    ("galaxy tab": tablet), and no phrase inside its name is (the "deck" of "Steam Deck", the "tvs" of "TVS
    Apache"); without, the line's words are read as any others (``item_view`` says why). No phrase inside a
    count of a home's rooms is either (``Extraction.room_counts``: the "Zimmer" of "3-Zimmer-Wohnung", the
    "habitaciones" of "piso de 3 habitaciones" count the rooms of a home and name no room to rent)."""
    names = ex.names if lines else []
    spans = [(a, b) for a, b, _ in names] + ex.room_counts
    found = [g for g in glosses(ex.rest, ex.langs) if not any(g.start < b and a < g.end for a, b in spans)]
    if names:
        found += [Gloss("line:" + s, *LINES[s], a, b) for a, b, s in names]
        found.sort(key=lambda g: g.start)
    if DEVANAGARI.search(ex.rest):
        rest = strip_cues(ex.rest, ex.langs)
        taken = {g.concept for g in found}
        for g in loan_glosses(rest, loans(rest, stopwords(ex.langs))):
            if g.concept not in taken and not any(g.start < f.end and f.start < g.end for f in found):
                found.append(g)
                taken.add(g.concept)
        found.sort(key=lambda g: g.start)
    return _without_accessories(ex, found)


def _without_accessories(ex: Extraction, found: list[Gloss]) -> list[Gloss]:
    """``found`` without the phrases named as what comes with the item, not as the item: after a word of the
    tables' ``accessory.before`` in its clause ("a laptop *with* a 512 GB SSD", "*带*遥控"), or right before
    one of ``accessory.after`` ("リモコン*付き*", "चार्जर *के साथ*"). Such a phrase neither names the category
    nor goes into the item rendering: with it, "HP Victus 15 avec SSD 512 Go" was read as a computer part and
    a 4WD rental car "with winter tyres" as tires. Non-English category agreement on the tuning sets (tune /
    tune2 / tune3 / tune4) with the accessories kept -> dropped: .9694 / .9246 / .8131 / .8159 -> .9694 /
    .9266 / .8155 / .8170; top-1 the same or higher (tune2 .9344 -> .9364)."""
    before = pattern("accessory.before", ex.langs)
    after = pattern("accessory.after", ex.langs)
    if not found or (before is None and after is None):
        return found
    clause_starts = [0, *(m.end() for m in CLAUSE_END.finditer(ex.rest))]
    kept: list[Gloss] = []
    for g in found:
        start = clause_starts[bisect.bisect_right(clause_starts, g.start) - 1]
        if before is not None and before.search(ex.rest, start, g.start):
            continue
        if after is not None and after.match(ex.rest[g.end : g.end + MAX_ACCESSORY_GAP].lstrip()):
            continue
        kept.append(g)
    return kept


def gloss_words(text: str, ex: Extraction | None = None) -> str:
    """English names of the bank items the text mentions ("lốp" -> "tires"), at most ``MAX_GLOSSES``."""
    ex = ex if ex is not None else extract(text)
    out: list[str] = []
    for g in find_glosses(ex):
        if g.english not in out:
            out.append(g.english)
        if len(out) >= MAX_GLOSSES:
            break
    return " ".join(out)


def category_label(code: str) -> str:
    cat = taxonomy().get(code)
    return cat.label if cat is not None else code


def render(category: str, attributes: dict[str, str], item: str, gloss: str = "") -> str:
    """Canonical English rendering of (category, glosses, item words, attributes): what the human is shown."""
    out = category_label(category) + ". " + item_rendering({}, item, gloss).removesuffix("item")
    attrs = [
        f"{k.replace('_', ' ')} {attributes[k].replace('_', ' ')}" for k in DISPLAY_KEYS if k in attributes
    ]
    return (out + " " + "; ".join(attrs)).strip() if attrs else out.strip()


def item_rendering(attributes: dict[str, str], item: str, gloss: str = "") -> str:
    """The item alone (glosses, item words, attributes; no category): what is embedded and classified."""
    parts: list[str] = []
    if gloss:
        parts.append(gloss + ".")
    if item:
        parts.append(item + ".")
    attrs = [
        f"{k.replace('_', ' ')} {attributes[k].replace('_', ' ')}" for k in RENDERED_KEYS if k in attributes
    ]
    if attrs:
        parts.append("; ".join(attrs))
    return " ".join(parts) or "item"


def render_intent(intent: Intent) -> str:
    """Canonical rendering of a (possibly remote) intent, recomputed from its text and attributes."""
    return category_label(intent.category) + ". " + intent_item_rendering(intent)


def intent_item_rendering(intent: Intent) -> str:
    """``item_rendering`` of a (possibly remote) intent, recomputed from its text and attributes."""
    return item_view(intent).rendering


@dataclass(frozen=True)
class ItemView:
    """What an intent's text says about the item: its rendering and the bank phrases found."""

    rendering: str
    glosses: tuple[Gloss, ...]
    service_hint: bool
    attributes: dict[str, str]  # the published attributes the view reads: all but the product line
    langs: tuple[str, ...] | None = None  # the languages the text was read in (``lexicon.scope``)

    @property
    def gloss_categories(self) -> list[str]:
        return [g.category for g in self.glosses]


def item_view(intent: Intent) -> ItemView:
    """The ``ItemView`` of a (possibly remote) intent, recomputed from its text and published attributes.

    A product line named (``brands.product_lines``) is not glossed as its goods here, as it is where the
    category is chosen (``understand``): the view makes the match vector and the distribution that sets how
    widely an intent is filed and searched (``features``), and a seller made sure by its "G-Shock" must still
    meet the buyer who names only the model ("GA-2100") and is read into another group. Non-English top-1
    with the line in the view / without (category agreement the same): tune .924 / .926, tune2 .888 / .889,
    tune4 .815 / .816; held-out .870 / .880 (top-5 .976 / .989).
    """
    attrs = {k: v for k, v in intent.attributes.items() if k != "line"}
    if not intent.text:
        return ItemView(item_rendering(attrs, attrs.get("item", "")), (), False, attrs)
    ex = extract(intent.text, lang=intent.lang)
    found = find_glosses(ex, lines=False)
    gloss = " ".join(list(dict.fromkeys(g.english for g in found))[:MAX_GLOSSES])
    return ItemView(
        item_rendering(attrs, item_words(intent.text, ex), gloss),
        tuple(found),
        service_hint(fold(intent.text), ex.langs),
        attrs,
        ex.langs,
    )
