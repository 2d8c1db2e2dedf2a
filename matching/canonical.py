"""The canonical (English-vocabulary) rendering of an intent: what is embedded and what is displayed.

``render`` = category label, normalised item words, and the canonical attributes in a fixed order, e.g.
``"Tires and wheels. llantas camioneta. size 225/65R17; condition used"``. Action, price, quantity and
location are never part of it: they are filters, applied outside the vector space.
"""

from __future__ import annotations

import re

from matching.cues import STOPWORDS, strip_cues
from matching.extract import extract
from wire.intent import Intent
from wire.taxonomy import taxonomy

#: Attributes that describe the thing (rendered); others (negotiable, ...) are terms, not the item.
RENDERED_KEYS = ("model", "brand", "size", "storage", "ram", "screen", "season", "condition")
MAX_ITEM_CHARS = 64
_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:['-][^\W\d_]+)*|[\u3400-\u9fff]+", re.UNICODE)
_CJK_FILLER = re.compile(r"[的了吗呢吧啊个条只台部件张套辆本双把对份块盒箱每我你他在有要和或]")


def item_words(text: str) -> str:
    """The words of ``text`` that describe the item: prices, sizes, quantities, cues and stopwords removed.

    Args:
        text: the user's original text.

    Returns:
        Lower-case words joined by spaces, at most ``MAX_ITEM_CHARS`` characters (may be empty).
    """
    rest = strip_cues(extract(text).rest)
    words: list[str] = []
    for tok in _TOKEN.findall(rest):
        if "\u3400" <= tok[0] <= "\u9fff":
            tok = _CJK_FILLER.sub("", tok)
            if not tok:
                continue
        elif tok in STOPWORDS or len(tok) < 2:
            continue
        if tok not in words:
            words.append(tok)
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > MAX_ITEM_CHARS:
            break
        out = f"{out} {w}" if out else w
    return out


def category_label(code: str) -> str:
    cat = taxonomy().get(code)
    return cat.label if cat is not None else code


def render(category: str, attributes: dict[str, str], item: str) -> str:
    """Canonical English rendering of (category, attributes, item words)."""
    parts = [category_label(category) + "."]
    if item:
        parts.append(item + ".")
    attrs = [
        f"{k.replace('_', ' ')} {attributes[k].replace('_', ' ')}" for k in RENDERED_KEYS if k in attributes
    ]
    if attrs:
        parts.append("; ".join(attrs))
    return " ".join(parts)


def render_intent(intent: Intent) -> str:
    """Canonical rendering of a (possibly remote) intent, recomputed from its text and attributes."""
    item = item_words(intent.text) if intent.text else intent.attributes.get("item", "")
    return render(intent.category, intent.attributes, item)
