"""The canonical (English-vocabulary) rendering of an intent: what is embedded and what is displayed.

``render`` = category label, English glosses of the item words found in the labelled bank, the normalised item
words, and the canonical attributes in a fixed order, e.g.
``"Tires and wheels. tires. llantas camioneta. size 225/65R17; condition used"``. Action, price, quantity and
location are never part of it: they are filters, applied outside the vector space. The glosses give texts in
languages the embedder knows little (Hindi, Vietnamese, Indonesian) an English anchor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matching.bank import glosses
from matching.cues import service_hint, stopwords, strip_cues
from matching.extract import Extraction, extract
from matching.lexicon import field
from wire.intent import Intent
from wire.taxonomy import taxonomy

#: Attributes that describe the thing (rendered); others (negotiable, ...) are terms, not the item.
#: Attributes embedded with the item (what it is); measurements and condition are compared separately.
RENDERED_KEYS = ("model", "brand", "season")
#: Attributes shown to the human in the canonical rendering.
DISPLAY_KEYS = (
    "model", "brand", "size", "capacity", "storage", "ram", "screen", "dimensions", "weight", "length",
    "volume", "color",
    "season", "condition",
)  # fmt: skip
MAX_ITEM_CHARS = 64
MAX_GLOSSES = 3
_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:['-][^\W\d_]+)*|[\u3400-\u9fff\u3040-\u30ff]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\u3040-\u30ff]")


def _filler() -> re.Pattern[str]:
    chars = "".join(str(field(lang, "cjk_filler")) for lang in ("zh", "ja") if field(lang, "cjk_filler"))
    return re.compile(f"[{re.escape(chars)}]") if chars else re.compile(r"(?!x)x")


_CJK_FILLER = _filler()


def item_words(text: str, ex: Extraction | None = None) -> str:
    """The words of ``text`` that describe the item: prices, sizes, quantities, cues and stopwords removed.

    Args:
        text: the user's original text.
        ex: its extraction, if already computed.

    Returns:
        Lower-case words joined by spaces, at most ``MAX_ITEM_CHARS`` characters (may be empty).
    """
    ex = ex if ex is not None else extract(text)
    rest = strip_cues(ex.rest, ex.langs)
    stop = stopwords(ex.langs)
    words: list[str] = []
    for tok in _TOKEN.findall(rest):
        if _CJK.match(tok):
            tok = _CJK_FILLER.sub("", tok)
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


def gloss_words(text: str, ex: Extraction | None = None) -> str:
    """English names of the bank items the text mentions ("lốp" -> "tires"), at most ``MAX_GLOSSES``."""
    ex = ex if ex is not None else extract(text)
    out: list[str] = []
    for g in glosses(ex.rest, ex.langs):
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
    """What an intent's text says about the item: its rendering and the categories of bank phrases found."""

    rendering: str
    gloss_categories: list[str]
    service_hint: bool
    langs: tuple[str, ...] | None = None  # the languages the text was read in (``lexicon.scope``)


def item_view(intent: Intent) -> ItemView:
    """The ``ItemView`` of a (possibly remote) intent, recomputed from its text and published attributes."""
    if not intent.text:
        return ItemView(item_rendering(intent.attributes, intent.attributes.get("item", "")), [], False)
    ex = extract(intent.text, lang=intent.lang)
    found = glosses(ex.rest, ex.langs)
    gloss = " ".join(list(dict.fromkeys(g.english for g in found))[:MAX_GLOSSES])
    return ItemView(
        item_rendering(intent.attributes, item_words(intent.text, ex), gloss),
        [g.category for g in found],
        service_hint(intent.text.lower(), ex.langs),
        ex.langs,
    )
