"""How many things a text offers or asks for, once its category is known: the count the extractor read
(``Extraction.quantity``), unless it counts a part or a measure of one thing."""

from __future__ import annotations

from matching.bank import Gloss
from matching.cues import stopwords, strip_cues
from matching.extraction import Extraction
from matching.lexicon import WORD, pattern
from wire.taxonomy import group_of

#: Where an intent is one thing (a flat, a room, a parking space, a car, a motorbike, a boat), a number in its
#: text counts its parts or measures it ("2-bedroom", "2 owners", "20 قدم" feet, "125 кубов" cc, "6 соток",
#: "4 kişilik"): no count is read there; the quantity is asked as for a text that names none.
ONE_THING_GROUPS = frozenset({"property"})
ONE_THING_CATEGORIES = frozenset({"vehicles/cars", "vehicles/motorcycles", "vehicles/boats"})


def thing_count(ex: Extraction, glosses: list[Gloss], category: str) -> int | None:
    """The number of things ``ex`` (with the bank phrases it mentions, ``glosses``) counts in ``category``;
    None where its count counts a part or a measure of the thing (``ONE_THING_CATEGORIES``,
    ``counts_a_part``) or it names none."""
    count = ex.quantity
    if count is None or count == 1:
        return count
    if category in ONE_THING_CATEGORIES or group_of(category) in ONE_THING_GROUPS:
        return None
    return None if counts_a_part(ex, glosses, category) else count


def counts_a_part(ex: Extraction, glosses: list[Gloss], category: str) -> bool:
    """Whether the text's count, a bare number before a word (``Extraction.counted``), counts a part or a
    trait of the thing rather than the things: the thing is named before it (by a phrase of the bank in
    ``category``, or, where none names it, by any word that is no cue or stopword) and the counted word is not
    the thing ("guitarra portuguesa ..., 12 cordas", "piano digital, 88 teclas", "Gas barbecue, 3 burners",
    "cooler box, used on 2 trips"). A count before the name ("4 used tires", "2 crates of Club-Mate"), of a
    counter or a container ("4 pcs", "2 bags": not bare), of the thing's own word ("sedie, 4 sedie"), of stock
    ("2 available", "2 Plätze frei") or with a price each or for all is the number of things."""
    if ex.counted is None or (ex.price is not None and ex.price.per_unit is not None):
        return False
    at, start, end = ex.counted
    stop = stopwords(ex.langs)
    stock = pattern("quantity.stock", ex.langs)
    after = len(ex.rest) - len(ex.rest[end:].lstrip(" "))
    if ex.rest[start:end] in stop or (
        stock is not None and (stock.match(ex.rest, start) or stock.match(ex.rest, after))
    ):
        return False
    named = [g for g in glosses if g.category == category]
    if any(g.start < end and start < g.end for g in named):
        return False
    if named:
        return named[0].end <= at
    before = strip_cues(ex.rest[:at], ex.langs)
    return any(len(w) > 1 and w not in stop for w in WORD.findall(before))
