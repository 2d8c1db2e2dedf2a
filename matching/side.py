"""Which side a text is on: it asks for its thing (demand) or offers it (supply).

Lexical cues decide when they agree (``matching.cues``), the owner's description or a question when no cue
word does, the classifier's reading of the wording otherwise (``Classifier.demand_probability``).
"""

from __future__ import annotations

from matching.cues import asks, by_kind, cue_spans, speaks, wanted_status
from matching.extraction import Extraction
from matching.lexicon import fold

#: Below this confidence in the side the wording alone suggests (``Classifier.demand_probability``, no cue
#: word deciding), the action is reported as uncertain (the margin's old threshold, .03, is .62).
ACTION_MIN_CONFIDENCE = 0.62
#: Confidence of the supply side when no word asks for the thing and the text describes it the way only its
#: owner does: "like new" ("美品", "풀박스", "az kullanılmış"), a price open to offers ("VB", "네고 가능")
#: or a price with its currency and no bound ("25000円", "15 €"; a buyer's is a budget: "bis 60 €", "2万円
#: 以内", "tầm 300k"). Of the 311 texts of the tuning sets and the 3,771 labelled ads with like new or
#: negotiable and no cue word, one is a request (read as an offer already), five offers were read as requests
#: or asked; of the 1,770 with such a price and no cue word, two are requests and 90 offers were read as
#: requests or asked.
DESCRIBED_SUPPLY_CONFIDENCE = 0.8
#: Confidence of the demand side when no cue word speaks and the text asks a question ("Carona pra praia no
#: sábado?", "Wer repariert Tablets?", "Ai dư vé xem múa rối nước ... không ạ?"): of the 181 such texts of
#: the tuning sets and the labelled ads, 180 are requests (28 were read as offers or asked) and one is an
#: offer (in tune4, read as a request already). An owner's description (``DESCRIBED_SUPPLY_CONFIDENCE``) is
#: read first: a seller's question ahead of it ("Brauchst du ein Fahrrad? ... wie neu, 60 €") asks nothing
#: (of the two such texts, one is a request and one an offer). A seller's question to buyers (the tables'
#: ``offer_question``: "interested?", "¿te interesa?", "관심 있으신 분?") leaves the side to the wording. A
#: supply word a question asks of anyone is a demand word (``cues.asked_of_anyone``).
ASKED_DEMAND_CONFIDENCE = 0.8
#: A ride whose free seats are counted ("Voy a la costa el viernes, 3 plazas", "Xe ghép ..., còn 2 ghế", the
#: tables' ``seats_free``) and that no cue word asks for is offered by its driver (read here only: a sofa has
#: "3 plazas" too).
RIDESHARE = "transport/rideshare"


def read_side(
    text: str,
    ex: Extraction,
    lang: str | None,
    seek: float,
    category: str,
    warnings: list[str],
    missing: list[str],
) -> tuple[bool, float, dict[str, list[str]]]:
    """Whether ``text`` asks for its thing (True) or offers it, the confidence, and the cue words found.

    Cue words decide when they agree (a supply word a question asks of anyone is a demand word:
    ``cues.cue_spans``); a swap is
    asked; with no demand word, an owner's description is an offer; with no cue word, a question is a
    request; else the wording decides (``seek``: ``Classifier.demand_probability``). Appends the warnings
    and, where unsure, "action" to ``missing``.

    Args:
        text: the text as written.
        ex: its extraction (``extract``).
        lang: its language, None if unknown.
        seek: the classifier's probability that the wording asks.
        category: the category read.
        warnings, missing: the understanding's lists, appended to.
    """
    lowered = fold(text)
    spans = cue_spans(lowered, ex.langs)
    demand, supply = by_kind(spans)
    found = {"demand": demand, "supply": supply}
    if speaks(lowered, "swap", ex.langs):  # "Trade my PS5 for a Switch": both sides at once
        demand_side = bool(demand) if bool(demand) != bool(supply) else seek > 0.5
        warnings.append(
            "a swap (one thing for another): publish what you give ('sell') and what you want ('buy') as two "
            f"intents; read as {'buy' if demand_side else 'sell'}"
        )
        missing.append("action")
        return demand_side, 0.5, found
    if demand and not supply:
        return True, 0.97, found
    if demand and wanted_status(spans, ex.langs, lang):  # "Cherche appartement à louer": it is for rent
        return True, 0.9, found
    if supply and not demand:
        return False, 0.97, found
    price = ex.price
    if not demand and (
        ex.attributes.get("condition") == "like_new"
        or ex.attributes.get("negotiable") == "yes"
        or (price is not None and price.written and price.currency is not None and price.bound is None)
        or (category == RIDESHARE and speaks(lowered, "seats_free", ex.langs))
    ):
        return False, max(DESCRIBED_SUPPLY_CONFIDENCE, min(0.9, 1.0 - seek)), found
    if not demand and not supply and asks(text) and not speaks(lowered, "offer_question", ex.langs):
        return True, max(ASKED_DEMAND_CONFIDENCE, min(0.9, seek)), found
    demand_side = seek > 0.5
    conf = min(0.9, max(seek, 1.0 - seek))
    if demand and supply:
        warnings.append(
            f"both buying ({demand[0]!r}) and selling ({supply[0]!r}) words; "
            f"chose {'buy' if demand_side else 'sell'}"
        )
        conf = min(conf, 0.6)
    if conf < ACTION_MIN_CONFIDENCE or (demand and supply):
        missing.append("action")
    return demand_side, conf, found
