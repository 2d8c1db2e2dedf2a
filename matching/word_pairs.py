"""Categories of one thing that a text's words tell apart ("mua" buys a flat, "thuê" rents it; the "repair" of
a washing machine is a repair service): the classifier's distribution follows them
(``Classifier.probabilities``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching.cues import said, speaks
from matching.lexicon import fold

#: Word lists of the language tables (``cues.said``) -> the pairs of categories they decide, each in the
#: order of the lists: owned or rented ("mua", buy; "thuê", rent), a job full- or part-time. A key of one
#: list decides for the first category of its pairs when heard and leaves the classifier alone when not: a
#: seedling ("саженец", "bibit", "苗木") is the garden's, not the fruit's. When a text speaks with one list
#: only and the other category of a pair scores higher, the two trade probabilities. A flat sought with
#: "cần mua" (need to buy) was filed under rent, as most flats sought are. Owned or rented, non-English
#: category agreement on the tuning sets (tune / tune2 / tune3 / tune4) .967 / .917 / .795 / .816 -> .967
#: / .920 / .798 / .814; buyers' category against gold .967 / .907 / .826 / .827 -> .967 / .910 / .830 /
#: .834 (in tune4 buyers moved to their gold category where a seller was read wrong); held-out agreement
#: .885 -> .893, category .930 -> .938, top-1 the same (.903). A job's hours: tune2 agreement .920 -> .921
#: (one buyer), the other sets the same; labelled ads' category .840 -> .841. A seedling: tune3 agreement
#: .798 -> .806 (the buyers of one concept, an avocado seedling read as the fruit), the other sets the
#: same; labelled ads' category .8410 -> .8418 (three ads, none lost); held-out the same. A repair
#: ("Riparazione TV", "Conserto de geladeira", "Çamaşır makinesi tamiri", "I can fix your washing
#: machine": ``repair``) is the repair service of the thing's group, not the thing; the tuning sets have
#: few such texts: of 10,970 readings one side moves (a tune4 buyer, to its pair's service), tune4
#: agreement .817 -> .818, the others and the labelled ads the same.
WORD_PAIRS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {
    ("own", "rent"): (("property/sale", "property/rent"), ("vehicles/cars", "transport/car-rental")),
    ("full_time", "part_time"): (("jobs/full-time", "jobs/part-time"),),
    ("seedling",): (("home/garden", "food/produce"),),
    ("repair",): (
        ("services/repairs", "home/appliances"),
        ("services/repairs", "home/furniture"),
        ("services/repairs", "electronics/tv"),
        ("services/repairs", "electronics/audio"),
        ("services/auto-repair", "vehicles/cars"),
        ("services/auto-repair", "vehicles/motorcycles"),
        ("services/auto-repair", "vehicles/parts"),
        ("services/it-help", "electronics/laptops"),
        ("services/it-help", "electronics/computer-parts"),
        ("services/it-help", "electronics/phones"),
        ("services/it-help", "electronics/tablets"),
    ),
}
#: A list of words that leaves a ``WORD_PAIRS`` key alone when the text speaks with it too: a repair said
#: beside buying or selling the thing outright ("Selling washing machine, needs repair", "Vendo lavadora,
#: necesita reparación") is the thing's state, not a repair service.
WORD_UNLESS: dict[tuple[str, ...], str] = {("repair",): "own"}
#: How far into a text a ``WORD_PAIRS`` key's words are heard (characters; the whole text when absent): a
#: repair service names itself first ("Riparazione TV", "Ремонт ноутбуков", "Need my washing machine
#: fixed"); a repair later in an ad is the thing's history ("..., keine Reparaturen", "nunca foi para
#: conserto", "belum pernah servis": never repaired).
WORD_REACH: dict[tuple[str, ...], int] = {("repair",): 48}


def follow_words(
    probs: np.ndarray, texts: Sequence[str], langs: Sequence[tuple[str, ...] | None], col: dict[str, int]
) -> None:
    """Per row, in place: the two categories of a ``WORD_PAIRS`` pair trade probabilities when the text
    speaks with one of their word lists only and the other category scores higher."""
    for r, text in enumerate(texts):
        folded = fold(text)
        for kinds, pairs in WORD_PAIRS.items():
            heard = said(folded[: WORD_REACH.get(kinds)], kinds, langs[r])
            if heard is None or (kinds in WORD_UNLESS and speaks(folded, WORD_UNLESS[kinds], langs[r])):
                continue
            side = kinds.index(heard)
            for pair in pairs:
                keep, other = col[pair[side]], col[pair[1 - side]]
                if probs[r, other] > probs[r, keep]:
                    probs[r, [keep, other]] = probs[r, [other, keep]]
